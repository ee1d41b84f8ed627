/*
 * A Device on fakes with pins led, relay (outputs) and button (input), online and
 * settled, and send() that delivers one command and returns its one parsed answer.
 * OTA ports are fakes too (fetcher, target, SHA-256, boot slots), with TEST_SIGNER's
 * public key bundled and node:crypto for the curve; null leaves one out.
 */

import assert from "node:assert/strict";
import { loadConfig, type RawConfig } from "../../../modules/app/config/config";
import { Device } from "../../../modules/app/device";
import { Gate } from "../../../modules/app/commands/channel";
import { FakeFetcher, FakeHash, FakeSlots, FakeTarget, TEST_SIGNER } from "./ota-fakes";
import { nodeEcdsa } from "../../../node/ecdsa";
import { FakePins, FakeSystem, FakeTime, FakeTransport, FakeNetwork, MemoryStorage, ScriptedSensor, recordingLog, scriptedRandom } from "./fakes";

export const COMMAND = "devices/node-1/cmd";
export const RESULT = "devices/node-1/cmd/result";
export const STATE = "devices/node-1/state";
export const SYNC = "devices/node-1/sync";
export const OTA = "devices/node-1/ota";

export interface Setup {
	raw?: RawConfig;
	storage?: MemoryStorage;
	pins?: FakePins | null;
	system?: FakeSystem | null;
	fetcher?: FakeFetcher | null;
	target?: FakeTarget | null;
	slots?: FakeSlots | null;
	/** The bundled update-signing key (SubjectPublicKeyInfo DER); null: none bundled. */
	otaKey?: Uint8Array | null;
	firmwareVersion?: string;
}

export function setup({ raw = {}, storage = new MemoryStorage(), pins = new FakePins(), system = new FakeSystem(), fetcher = new FakeFetcher(), target = new FakeTarget(), slots = new FakeSlots(), otaKey = TEST_SIGNER.spki, firmwareVersion }: Setup = {}) {
	const { config, errors } = loadConfig({
		mqttHost: "broker.example.com", deviceId: "node-1", interval: "1000", outputs: "led:2,relay:4", inputs: "button:5", ...raw,
	}, { defaultDeviceId: "unused", wifiRequired: false });
	assert.deepEqual(errors, []);
	const time = new FakeTime({ ticks: 5_000, wall: 1_763_769_600_000 });
	const transport = new FakeTransport();
	const log = recordingLog();
	const hashes: FakeHash[] = [];
	const device = new Device({
		config, transport, network: new FakeNetwork(true), clock: time, timers: time, log, storage,
		sensor: new ScriptedSensor(), random: scriptedRandom([0.5]), pins: pins ?? undefined, system: system ?? undefined,
		fetcher: fetcher ?? undefined, updateTarget: target ?? undefined, firmwareVersion,
		bootSlots: slots ?? undefined, otaKey: otaKey ?? undefined, ecdsa: nodeEcdsa,
		createHash: () => { const hash = new FakeHash(); hashes.push(hash); return hash; },
	});
	return { device, time, transport, log, storage, pins, system, fetcher, target, slots, hashes };
}

/** Online, with the settle marker echoed back: commands are executed. */
export function ready(options: Setup = {}) {
	const s = setup(options);
	s.device.start();
	s.transport.last.ready();
	const marker = s.transport.last.on(SYNC).find(payload => payload.startsWith("cmd:"));
	assert.ok(marker, "the channel sent its settle marker");
	s.transport.last.message(SYNC, marker);
	assert.equal(s.device.channel.gate, Gate.Open);
	/** Sends one command and returns its parsed result. */
	const send = (command: unknown, retained?: boolean) => {
		const session = s.transport.last;
		const before = session.on(RESULT).length;
		session.message(COMMAND, typeof command === "string" ? command : JSON.stringify(command), retained);
		const results = session.on(RESULT);
		assert.equal(results.length, before + 1, "exactly one answer");
		return JSON.parse(results[results.length - 1]);
	};
	const state = () => JSON.parse(s.transport.last.on(STATE).at(-1)!);
	return { ...s, send, state };
}

export function assertError(result: { id: unknown; ok: boolean; error?: { code: string; message: string } }, id: unknown, code: string, mentions?: string) {
	assert.equal(result.ok, false, JSON.stringify(result));
	assert.equal(result.id, id);
	assert.equal(result.error!.code, code, JSON.stringify(result));
	if (mentions !== undefined)
		assert.ok(result.error!.message.includes(mentions), `message ${JSON.stringify(result.error!.message)} names ${mentions}`);
}


/**
 * An ota.start command signed by TEST_SIGNER over its own version, size and sha256
 * (after `extra` is applied; a non-string sha256/version or non-number size is signed
 * as given text). `signature` in `extra` replaces the computed one (undefined drops it).
 */
export function signedOta(fields: { url: string; sha256: string; version: string; size: number } & Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
	const command: Record<string, unknown> = { id: "u", op: "ota.start", ...fields, ...extra };
	const signature = TEST_SIGNER.sign({ version: String(command.version), size: Number(command.size), sha256: String(command.sha256) });
	if (!Object.hasOwn(extra, "signature"))
		command.signature = signature;
	else if (extra.signature === undefined)
		delete command.signature;
	return command;
}
