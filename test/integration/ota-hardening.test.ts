/*
 * Updates that must not hurt the device, against a real mosquitto and a local HTTPS
 * image server: more bytes than Content-Length fail as E_LENGTH; a server dripping
 * bytes inside the stall timeout fails at the deadline (E_DEADLINE, limits shortened
 * for the test); ota.cancel ends a slow download; and a restart command during the
 * update's reboot window boots once, not twice.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NodeDevice } from "../../node/device";
import { MemoryStorage } from "../../node/ports";
import { NodeUpdateTarget } from "../../node/update-target";
import { Gate } from "../../modules/app/commands/channel";
import { Fixture } from "../../tools/harness/fixture";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { delay, waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";
import { signedStart } from "../../tools/ota-sign";

interface Progress { state: string; received: number; total: number | null; error?: { code: string; message: string } }
interface Result { id: unknown; ok: boolean; error?: { code: string }; [field: string]: unknown }

const LIMITS = { stallTimeout: 3_000, deadlineBase: 3_000, minRate: 4_096 };	// a 2 KB body in 3.5 s
const image = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff));

describe("ota hardening", { timeout: 60_000 }, () => {
	const fixture = new Fixture();
	const signingKey = () => readFileSync(join(fixture.pkiDir, "ota-signing.key"));
	const ID = "it-ota-hard";
	const CMD = `devices/${ID}/cmd`;
	const RESULT = `devices/${ID}/cmd/result`;
	const OTA = `devices/${ID}/ota`;
	const STATUS = `devices/${ID}/status`;
	const SMALL = image(2_048);
	const storage = new MemoryStorage();
	const target = new NodeUpdateTarget({ capacity: 64 * 1024 });
	const restarts: string[] = [];
	let server: ImageServer;
	let operator: Watcher;
	let node: NodeDevice;
	let commands = 0;

	before(async () => {
		const broker = await fixture.broker();
		server = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => server.close());
		server.route("/overlong.bin", { kind: "overlong", body: SMALL, extra: 100 });
		server.route("/drip.bin", { kind: "slow", body: SMALL, chunk: 1, every: 200 });
		server.route("/small.bin", { kind: "ok", body: SMALL });
		server.route("/slow.bin", { kind: "slow", body: SMALL, chunk: 256, every: 1_000 });
		operator = await fixture.watcher({ port: broker.port, topics: [RESULT, OTA, STATUS] });
		const boot = (firmwareVersion?: string, bootReason?: string): NodeDevice => fixture.device(broker.port, { deviceId: ID }, {
			storage, updateTarget: target, firmwareVersion, bootReason, otaLimits: LIMITS,
			onRestart: (reason, next) => {
				restarts.push(reason);
				node = boot(next.firmwareVersion, reason);
				node.device.start();
			},
		});
		node = boot();
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
	});
	after(() => fixture.cleanup());

	const progress = (from: number) => operator.on(OTA).slice(from).map(message => parse(message.payload) as Progress);

	async function command(fields: Record<string, unknown>): Promise<Result> {
		const id = `h-${++commands}`;
		await operator.publish(CMD, JSON.stringify({ id, ...fields }));
		return parse((await operator.waitFor(RESULT, result => (result as Result).id === id, 10_000)).payload) as Result;
	}

	async function failure(path: string, body: Buffer): Promise<Progress> {
		const from = operator.on(OTA).length;
		assert.equal((await command({ ...signedStart(signingKey(), body, server.url(path), "1.1.0") })).ok, true);
		const failed = await waitFor("failed", () => progress(from).find(p => p.state === "failed"), 15_000);
		assert.equal(target.open, false, "no update left open");
		assert.equal(target.bootImage, undefined, "nothing would boot");
		return failed;
	}

	it("more bytes than Content-Length fail as E_LENGTH", async () => {
		const failed = await failure("/overlong.bin", SMALL);
		assert.equal(failed.error?.code, "E_LENGTH", JSON.stringify(failed));
	});

	it("a server dripping inside the stall timeout fails at the deadline (E_DEADLINE)", async () => {
		const failed = await failure("/drip.bin", SMALL);
		assert.equal(failed.error?.code, "E_DEADLINE", JSON.stringify(failed));
		assert.ok(failed.received < SMALL.length, JSON.stringify(failed));
	});

	it("ota.cancel ends a slow download (E_CANCELLED) and is E_IDLE afterwards", async () => {
		const from = operator.on(OTA).length;
		assert.equal((await command({ ...signedStart(signingKey(), SMALL, server.url("/slow.bin"), "1.1.0") })).ok, true);
		await waitFor("some bytes", () => progress(from).some(p => p.received > 0), 10_000);
		const answer = await command({ op: "ota.cancel" });
		assert.equal(answer.ok, true, JSON.stringify(answer));
		assert.equal(progress(from).at(-1)?.error?.code, "E_CANCELLED");
		assert.equal(target.open, false);
		assert.equal((await command({ op: "ota.cancel" })).error?.code, "E_IDLE");
	});

	it("a restart command during the update's reboot window boots once", async () => {
		const from = operator.on(OTA).length;
		const first = node;
		assert.equal((await command({ ...signedStart(signingKey(), SMALL, server.url("/small.bin"), "1.1.0") })).ok, true);
		await waitFor("rebooting", () => progress(from).some(p => p.state === "rebooting"), 10_000);
		assert.equal(node, first, "still the updating device");
		const answer = await command({ op: "restart" });
		assert.equal(answer.ok, true, "answered by the updating device, inside its reboot window");
		await waitFor("the new device", () => node !== first, 5_000);
		await delay(1_500);	// the old restart timer fired 500 ms after its answer
		assert.deepEqual(restarts, ["ota"]);
		assert.equal(node.device.firmwareVersion, "1.1.0");
	});
});
