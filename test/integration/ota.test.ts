/*
 * OTA against a real mosquitto and a local HTTPS image server, both with certificates
 * from the test's own CA: a good image goes through every state in order, is recorded
 * byte for byte and the device comes back with the new fw in its birth and confirms
 * it; a wrong hash, a transfer cut halfway, a 404, a server signed by another CA, an
 * oversize image and a response without Content-Length each end in failed with their
 * reason, the target untouched, and readings continuing. Requests are signed with the
 * fixture's dev signing key; a foreign or missing signature fetches nothing. An update
 * whose new boot cannot reach the broker rolls back after otaConfirmTimeout.
 */

import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import { NODE_MODEL, type NodeDevice } from "../../node/device";
import { MemoryStorage, SwitchableNetwork } from "../../node/ports";
import { NodeUpdateTarget } from "../../node/update-target";
import { makeRogueServer } from "../../tools/pki";
import { signUpdate } from "../../tools/ota-sign";
import { Gate } from "../../modules/app/commands/channel";
import { FIRMWARE_VERSION } from "../../modules/app/version";
import { Fixture } from "../../tools/harness/fixture";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";

interface Progress {
	state: string;
	version: string;
	received: number;
	total: number | null;
	error?: { code: string; message: string };
}

interface Result {
	id: unknown;
	ok: boolean;
	error?: { code: string; message: string };
	[field: string]: unknown;
}

const CAPACITY = 160 * 1024;
const CHUNK = 8 * 1024;
const CONFIRM_TIMEOUT = 4_000;	// ms: otaConfirmTimeout of this test's device
const CONFIRM_AFTER = 1_000;	// ms: otaConfirmAfter (the healthy window before confirming)

function image(size: number, seed: number): Buffer {
	const bytes = Buffer.alloc(size);
	for (let i = 0; i < size; i++)
		bytes[i] = (i * 131 + seed + (i >> 9)) & 0xff;
	return bytes;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("ota", { timeout: 45_000 }, () => {
	const fixture = new Fixture();
	const ID = "it-ota";
	const CMD = `devices/${ID}/cmd`;
	const RESULT = `devices/${ID}/cmd/result`;
	const OTA = `devices/${ID}/ota`;
	const STATUS = `devices/${ID}/status`;
	const TELEMETRY = `devices/${ID}/telemetry`;
	const GOOD = image(128 * 1024, 1);
	const BIG = image(200 * 1024, 2);
	const storage = new MemoryStorage();
	const target = new NodeUpdateTarget({ capacity: CAPACITY });
	let broker: Broker;
	let server: ImageServer;
	let rogue: ImageServer;
	let operator: Watcher;
	let node: NodeDevice;
	let rebooted: NodeDevice | undefined;
	let commands = 0;
	/** The link of the next boot: up unless a test says otherwise. */
	let nextNetwork: () => SwitchableNetwork = () => new SwitchableNetwork(true);
	const signingKey = () => readFileSync(`${fixture.pkiDir}/ota-signing.key`);
	const signed = (unmodelled: { version: string; size: number; sha256: string }) => {
		const fields = { model: NODE_MODEL, ...unmodelled };
		return { ...fields, signature: signUpdate(signingKey(), fields) };
	};

	before(async () => {
		broker = await fixture.broker();
		server = await startImageServer(fixture.pkiDir);
		rogue = await startImageServer(fixture.pkiDir, makeRogueServer(fixture.pkiDir));
		fixture.onCleanup(() => server.close());
		fixture.onCleanup(() => rogue.close());
		for (const [path, kind] of [["/good.bin", "ok"], ["/cut.bin", "cut"], ["/missing.bin", "not-found"], ["/chunked.bin", "no-length"]] as const)
			server.route(path, { kind, body: GOOD });
		server.route("/big.bin", { kind: "ok", body: BIG });
		server.route("/slow.bin", { kind: "slow", body: GOOD, chunk: CHUNK, every: 100 });
		rogue.route("/good.bin", { kind: "ok", body: GOOD });
		operator = await fixture.watcher({ port: broker.port, topics: [RESULT, OTA, STATUS, TELEMETRY] });
		const boot = (firmwareVersion?: string, bootReason?: string) => fixture.device(broker.port, { deviceId: ID, otaConfirmTimeout: CONFIRM_TIMEOUT, otaConfirmAfter: CONFIRM_AFTER }, {
			storage, updateTarget: target, firmwareVersion, bootReason, network: nextNetwork(),
			// What a board does: it reboots into whatever the update installed.
			onRestart: (reason, next) => {
				rebooted = boot(next.firmwareVersion, reason);
				rebooted.device.start();
			},
		});
		node = boot();
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
	});
	after(() => fixture.cleanup());

	const lastSeq = () => Math.max(0, ...operator.readings(TELEMETRY).filter(reading => reading.boot === node.device.boot).map(reading => reading.seq));
	const progress = (from: number) => operator.on(OTA).slice(from).map(message => parse(message.payload) as Progress);

	async function command(fields: Record<string, unknown>): Promise<Result> {
		const id = `ota-${++commands}`;
		await operator.publish(CMD, JSON.stringify({ id, ...fields }));
		return parse((await operator.waitFor(RESULT, result => (result as Result).id === id, 5_000)).payload) as Result;
	}

	/** Starts an update and waits for it to end; returns the progress it published. */
	async function update(url: string, sha: string, size: number, version = "1.1.0"): Promise<Progress[]> {
		const from = operator.on(OTA).length;
		const answer = await command({ op: "ota.start", url, ...signed({ sha256: sha, version, size }) });
		assert.deepEqual(answer, { id: answer.id, ok: true, state: "downloading", version });
		await waitFor("the update to end", () => progress(from).some(p => p.state === "failed" || p.state === "rebooting"), 15_000);
		return progress(from);
	}

	async function fails(url: string, sha: string, code: string, mentions?: RegExp, size = GOOD.length): Promise<Progress> {
		const cancels = target.cancels;
		const seqBefore = lastSeq();
		const seen = await update(url, sha, size);
		const last = seen.at(-1)!;
		assert.equal(last.state, "failed", JSON.stringify(seen));
		assert.equal(last.version, "1.1.0");
		assert.equal(last.error?.code, code, JSON.stringify(last));
		if (mentions)
			assert.match(last.error!.message, mentions);
		assert.equal(target.completions, 0, "nothing completed");
		assert.equal(target.bootImage, undefined, "nothing would boot");
		assert.equal(target.open, false, "no update left open");
		assert.equal(target.cancels, cancels + 1, "the target was cancelled");
		await waitFor("readings after the failure", () => lastSeq() > seqBefore, 5_000);
		return last;
	}

	it("refuses the running version (E_VERSION) without starting anything", async () => {
		const answer = await command({ op: "ota.start", url: server.url("/good.bin"), ...signed({ sha256: sha256(GOOD), version: FIRMWARE_VERSION, size: GOOD.length }) });
		assert.equal(answer.error?.code, "E_VERSION");
		assert.equal(server.requests.size, 0);
	});

	it("refuses a missing signature and one by another key (E_SIGNATURE) without a request", async () => {
		const fields = { model: NODE_MODEL, sha256: sha256(GOOD), version: "1.1.0", size: GOOD.length };
		assert.equal((await command({ op: "ota.start", url: server.url("/good.bin"), ...fields })).error?.code, "E_SIGNATURE");
		const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
		const foreign = await command({ op: "ota.start", url: server.url("/good.bin"), ...fields, signature: signUpdate(other, fields) });
		assert.equal(foreign.error?.code, "E_SIGNATURE");
		assert.equal(server.requests.size, 0, "nothing was fetched");
		assert.equal(target.begins, 0, "nothing was written");
	});

	it("a device built without the signing key refuses with E_UNAVAILABLE, saying why in the result and the trace", async () => {
		const keyless = fixture.device(broker.port, { deviceId: "it-ota-keyless", otaKey: "absent.der" });
		keyless.device.start();
		await waitFor("the keyless device's gate", () => keyless.device.channel.gate === Gate.Open);
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/it-ota-keyless/cmd/result"] });
		await watcher.publish("devices/it-ota-keyless/cmd", JSON.stringify({ id: "k", op: "ota.start", url: server.url("/good.bin"), ...signed({ sha256: sha256(GOOD), version: "1.1.0", size: GOOD.length }) }));
		const answer = parse((await watcher.waitFor("devices/it-ota-keyless/cmd/result")).payload) as Result;
		assert.equal(answer.error?.code, "E_UNAVAILABLE");
		assert.match(answer.error!.message, /"absent\.der" is not bundled/);
		assert.ok(keyless.log.lines.some(line => /^ota: updates refused: .*absent\.der/.test(line)), keyless.log.lines.join("\n"));
		assert.equal(server.requests.size, 0);
		keyless.device.stop();
	});

	it("a wrong hash ends in E_HASH after verifying", async () => {
		await fails(server.url("/good.bin"), sha256(BIG), "E_HASH");
		assert.equal(server.requests.get("/good.bin"), 1);
	});

	it("a transfer cut halfway ends in E_TRUNCATED", async () => {
		const last = await fails(server.url("/cut.bin"), sha256(GOOD), "E_TRUNCATED");
		assert.ok(last.received < GOOD.length, JSON.stringify(last));
		assert.equal(last.total, GOOD.length);
	});

	it("a 404 ends in E_HTTP", async () => {
		await fails(server.url("/missing.bin"), sha256(GOOD), "E_HTTP", /404/);
	});

	it("a server signed by another CA ends in E_NETWORK before any request", async () => {
		await fails(rogue.url("/good.bin"), sha256(GOOD), "E_NETWORK", /certificate/i);
		assert.equal(rogue.requests.size, 0, "the handshake was refused, nothing was requested");
	});

	it("an image larger than the target ends in E_TOO_BIG before anything is written", async () => {
		const writes = target.writes;
		await fails(server.url("/big.bin"), sha256(BIG), "E_TOO_BIG", new RegExp(String(CAPACITY)), BIG.length);
		assert.equal(target.writes, writes);
	});

	it("a response without Content-Length ends in E_NO_LENGTH", async () => {
		await fails(server.url("/chunked.bin"), sha256(GOOD), "E_NO_LENGTH");
	});

	it("a good image goes through every state, is recorded byte for byte, and the device reboots into it", async () => {
		const from = operator.on(OTA).length;
		const seqBefore = lastSeq();
		const oldBoot = node.device.boot;
		const answer = await command({ op: "ota.start", url: server.url("/slow.bin"), ...signed({ sha256: sha256(GOOD), version: "1.1.0", size: GOOD.length }), sha256: sha256(GOOD).toUpperCase() });
		assert.equal(answer.ok, true);

		// While it downloads: readings keep coming, commands are answered, a second update is refused.
		await waitFor("a reading during the download", () => lastSeq() > seqBefore && node.device.ota?.state === "downloading", 5_000);
		assert.equal((await command({ op: "status" })).ok, true);
		assert.equal((await command({ op: "ota.start", url: server.url("/good.bin"), ...signed({ sha256: sha256(GOOD), version: "1.2.0", size: GOOD.length }) })).error?.code, "E_BUSY");

		await waitFor("rebooting", () => progress(from).some(p => p.state === "rebooting"), 15_000);
		const seen = progress(from);
		const states = seen.map(p => p.state).filter((state, i, all) => state !== all[i - 1]);
		assert.deepEqual(states, ["downloading", "verifying", "applying", "rebooting"]);
		const steps = seen.filter(p => p.state === "downloading" && p.total !== null).map(p => p.received);
		assert.equal(steps.at(-1), GOOD.length);
		for (let i = 1; i < steps.length; i++)
			assert.ok(steps[i] > steps[i - 1] && steps[i] - steps[i - 1] <= GOOD.length / 10 + CHUNK, `progress step ${steps[i - 1]} -> ${steps[i]}`);
		assert.ok(seen.every(p => p.version === "1.1.0" && (p.total === null || p.total === GOOD.length)));

		assert.equal(target.completions, 1);
		assert.ok(target.bootImage?.equals(GOOD), "the recorded image equals the source byte for byte");

		const birth = await operator.waitFor(STATUS, status => {
			const s = status as { online?: boolean; fw?: string; boot?: number };
			return s.online === true && s.fw === "1.1.0";
		}, 10_000);
		assert.deepEqual(parse(birth.payload), { online: true, fw: "1.1.0", boot: oldBoot + 1, reason: "ota", model: NODE_MODEL });
		assert.ok(rebooted, "the device was re-created by onRestart");
		assert.equal(rebooted.device.firmwareVersion, "1.1.0");
		const status = await command({ op: "status" });
		assert.equal(status.fw, "1.1.0");
		await waitFor("readings from the new boot", () => operator.readings(TELEMETRY).some(reading => reading.boot === oldBoot + 1), 5_000);
		await operator.waitFor(OTA, p => (p as Progress).state === "confirmed" && (p as Progress).version === "1.1.0", 10_000);
		assert.deepEqual(target.slots, { installed: "1.1.0" });
		const again = await command({ op: "ota.start", url: server.url("/good.bin"), ...signed({ sha256: sha256(GOOD), version: "1.1.0", size: GOOD.length }) });
		assert.equal(again.error?.code, "E_VERSION", "the new image is now the running version");
	});

	it("an update whose new boot never reaches the broker rolls back after otaConfirmTimeout", async () => {
		const from = operator.on(STATUS).length;
		const trial = rebooted!;
		const up = nextNetwork;
		nextNetwork = () => {	// the 1.2.0 boot has no link at all; the one after the rollback has
			nextNetwork = up;
			return new SwitchableNetwork(false);
		};
		const seen = await update(server.url("/good.bin"), sha256(GOOD), GOOD.length, "1.2.0");
		assert.equal(seen.at(-1)?.state, "rebooting");
		await waitFor("the 1.2.0 boot", () => rebooted !== trial && rebooted!.device.firmwareVersion === "1.2.0", 5_000);
		const birth = await operator.waitFor(STATUS, status => (status as { reason?: string }).reason === "rollback", CONFIRM_TIMEOUT + 8_000);
		assert.deepEqual(parse(birth.payload), { online: true, fw: "1.1.0", boot: rebooted!.device.boot, reason: "rollback", model: NODE_MODEL });
		assert.ok(operator.on(STATUS).slice(from).every(message => (parse(message.payload) as { fw?: string }).fw !== "1.2.0"), "1.2.0 never came online");
		const report = await operator.waitFor(OTA, p => (p as Progress).state === "rolled-back", 5_000);
		assert.deepEqual(parse(report.payload), { state: "rolled-back", version: "1.2.0", running: "1.1.0", cause: `not confirmed within ${CONFIRM_TIMEOUT} ms` });
		assert.deepEqual(target.slots, { installed: "1.1.0" });
	});
});
