/*
 * Hardening in the Linux simulator (issue 14): a burst of commands is answered in
 * full, each id once; a restart during an update's reboot window boots once; an
 * update from a slow server can be cancelled (ota.cancel) and leaves nothing behind;
 * more bytes than Content-Length fail as E_LENGTH;
 * a build whose topicPrefix the broker would not serve refuses to start and says why
 * on the console. Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { delay, waitFor } from "../../tools/harness/wait";
import { parse, type Received, type Watcher } from "../../tools/harness/watcher";
import { signedStart } from "../../tools/ota-sign";
import { simulatorStateDir } from "../../tools/sdk";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-hardening";
const TOPIC = (leaf: string) => `devices/${ID}/${leaf}`;
const BURST = 200;

interface Result { id: string | null; ok: boolean; error?: { code: string; message: string }; [field: string]: unknown }
interface Progress { state: string; received?: number; error?: { code: string } }
interface Status { online: boolean; boot?: number; reason?: string }

describe("simulator: hardening", () => {
	let fixture: DeviceFixture;
	let images: ImageServer;
	let watcher: Watcher;
	let brokerPort = 0;
	const small = randomBytes(8 * 1024);
	const slow = randomBytes(64 * 1024);
	const signingKey = () => readFileSync(join(fixture.pkiDir, "ota-signing.key"));
	// The build's own state directory: the partial download and the pending (bootable) image.
	let state = "";
	const PARTIAL = () => join(state, `${ID}-ota.part`);
	const RECORDED = () => join(state, `${ID}-pending.bin`);

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		brokerPort = broker.port;
		images = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => images.close());
		images.route("/small.bin", { kind: "ok", body: small });
		images.route("/slow.bin", { kind: "slow", body: slow, chunk: 512, every: 500 });
		images.route("/overlong.bin", { kind: "overlong", body: small, extra: 100 });
		const library = await fixture.build(broker.port, ID, { outputs: "led:2" });
		state = simulatorStateDir(library);
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`] });
		fixture.simulate(library, 240);
		await watcher.waitFor(TOPIC("status"), payload => (payload as Status).online === true, 60_000);
	});
	after(() => fixture?.cleanup());

	const results = () => watcher.on(TOPIC("cmd/result")).map(message => parse(message.payload) as Result);
	const progress = () => watcher.on(TOPIC("ota")).map(message => parse(message.payload) as Progress);
	const births = (from = 0) => watcher.received.slice(from).filter(m => m.topic === TOPIC("status") && (parse(m.payload) as Status).online);
	const send = (fields: Record<string, unknown>) => watcher.publish(TOPIC("cmd"), JSON.stringify(fields));
	/** Sends until the device is past its settle marker (a command before it is E_RETAINED). */
	async function command(fields: Record<string, unknown>): Promise<Result> {
		for (let attempt = 1; ; attempt++) {
			const id = `${fields.op}-${attempt}-${Date.now()}`;
			await send({ id, ...fields });
			const result = parse((await watcher.waitFor(TOPIC("cmd/result"), payload => (payload as Result).id === id, 15_000)).payload) as Result;
			if (result.error?.code !== "E_RETAINED" || attempt >= 5)
				return result;
			await delay(500);
		}
	}

	it(`answers each of ${BURST} back-to-back commands exactly once`, { skip: sdkSkip }, async () => {
		assert.equal((await command({ op: "gpio.get" })).ok, true);
		const from = results().length;
		await Promise.all(Array.from({ length: BURST }, (_, i) => send({ id: `burst-${i}`, op: "gpio.toggle", pin: "led" })));
		await waitFor(`${BURST} answers`, () => results().length - from >= BURST, 60_000);
		await delay(1_000);	// nothing more may come
		const burst = results().slice(from);
		const ids = burst.map(result => result.id);
		assert.equal(burst.length, BURST, `answers: ${burst.length}`);
		assert.equal(new Set(ids).size, BURST, "each id once");
		for (const result of burst)
			assert.ok(result.ok || result.error?.code === "E_BUSY", JSON.stringify(result));
		const executed = burst.filter(result => result.ok).length;
		const led = (await command({ op: "gpio.get", pin: "led" })).value;
		assert.equal(led, executed % 2, `the led toggled once per ok answer (${executed} ok)`);
	});

	it("ota.cancel ends a download from a slow server and leaves nothing behind", { skip: sdkSkip }, async () => {
		assert.equal((await command({ op: "ota.cancel" })).error?.code, "E_IDLE");
		const start = progress().length;
		assert.equal((await command({ ...signedStart(signingKey(), slow, images.url("/slow.bin"), "1.1.0") })).ok, true);
		await waitFor("some bytes", () => progress().slice(start).some(p => p.state === "downloading" && (p.received ?? 0) > 0), 30_000);
		const answer = await command({ op: "ota.cancel" });
		assert.equal(answer.ok, true, JSON.stringify(answer));
		assert.equal(answer.state, "failed");
		const failed = await waitFor("failed", () => progress().slice(start).find(p => p.state === "failed"), 15_000);
		assert.equal(failed.error?.code, "E_CANCELLED");
		assert.ok(!existsSync(PARTIAL()), "the partial image was discarded");
		assert.ok(!existsSync(RECORDED()), "nothing would boot");
		assert.equal((await command({ op: "ota.cancel" })).error?.code, "E_IDLE");
	});

	it("more bytes than Content-Length fail as E_LENGTH", { skip: sdkSkip }, async () => {
		const start = progress().length;
		assert.equal((await command({ ...signedStart(signingKey(), small, images.url("/overlong.bin"), "1.1.0") })).ok, true);
		const failed = await waitFor("failed", () => progress().slice(start).find(p => p.state === "failed"), 30_000);
		assert.equal(failed.error?.code, "E_LENGTH", JSON.stringify(failed));
		assert.ok(!existsSync(RECORDED()), "nothing would boot");
	});

	it("a restart command during the update's reboot window boots once", { skip: sdkSkip }, async () => {
		const start = progress().length;
		const from = watcher.received.length;
		assert.equal((await command({ ...signedStart(signingKey(), small, images.url("/small.bin"), "1.1.0") })).ok, true);
		await waitFor("rebooting", () => progress().slice(start).some(p => p.state === "rebooting"), 60_000);
		await send({ id: "race-restart", op: "restart" });
		await waitFor("the birth after the update", () => births(from).length >= 1, 30_000);
		await delay(4_000);	// the old restart timer fired 500 ms after its answer
		const after: Received[] = births(from);
		const reasons = after.map(m => (parse(m.payload) as Status).reason);
		const answered = watcher.received.slice(from).findIndex(m => m.topic === TOPIC("cmd/result") && (parse(m.payload) as Result).id === "race-restart");
		const born = watcher.received.slice(from).indexOf(after[0]);
		assert.ok(answered >= 0 && answered < born, "the restart was answered by the updating device, inside its reboot window");
		assert.deepEqual(reasons, ["ota"], "exactly one boot, for the update");
	});
});

describe("simulator: a topicPrefix the broker will not serve", () => {
	let fixture: DeviceFixture;
	let lines: string[] = [];

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		const library = await fixture.build(broker.port, "sim-badprefix", { topicPrefix: "$SYS/fleet" });
		lines = fixture.simulate(library, 60).lines;
	});
	after(() => fixture?.cleanup());

	it("refuses to start and names topicPrefix on the console", { skip: sdkSkip }, async () => {
		const line = await waitFor("the refusal", () => lines.find(text => text.includes("topicPrefix:")), 30_000);
		assert.match(line, /\$SYS\/fleet.*starts with \$/);
		assert.ok(lines.some(text => text.includes("config: refusing to start")), lines.join("\n"));
		assert.ok(!lines.some(text => text.includes("mqtt:")), "no connection attempted");
	});
});
