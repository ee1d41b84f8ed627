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
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { delay, waitFor } from "../../tools/harness/wait";
import { parse, type Received } from "../../tools/harness/watcher";
import { signedStart } from "../../tools/ota-sign";
import { sdkSkip, simulatedDevice, type CommandResult } from "./support";

const BURST = 200;

interface Progress { state: string; received?: number; error?: { code: string } }
interface Status { online: boolean; boot?: number; reason?: string }

describe("simulator: hardening", () => {
	const small = randomBytes(8 * 1024);
	const slow = randomBytes(64 * 1024);
	const sim = simulatedDevice("sim-hardening", {
		config: { outputs: "led:2" },
		images: [
			["/small.bin", { kind: "ok", body: small }],
			["/slow.bin", { kind: "slow", body: slow, chunk: 512, every: 500 }],
			["/overlong.bin", { kind: "overlong", body: small, extra: 100 }],
		],
		seconds: 240,
	});
	const TOPIC = (leaf: string) => sim.topic(leaf);
	// The build's own state folder: the partial download and the pending (bootable) image.
	const PARTIAL = () => sim.stateFile(`${sim.id}-ota.part`);
	const RECORDED = () => sim.stateFile(`${sim.id}-pending.bin`);

	const results = () => sim.messages<CommandResult>("cmd/result");
	const progress = () => sim.messages<Progress>("ota");
	const births = (from = 0) => sim.watcher.received.slice(from).filter(m => m.topic === TOPIC("status") && (parse(m.payload) as Status).online);
	const send = (fields: Record<string, unknown>) => sim.watcher.publish(TOPIC("cmd"), JSON.stringify(fields));
	const command = (fields: Record<string, unknown>) => sim.command(fields);

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
		assert.equal((await command({ ...signedStart(sim.signingKey(), slow, sim.images!.url("/slow.bin"), "lin", "1.1.0") })).ok, true);
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
		assert.equal((await command({ ...signedStart(sim.signingKey(), small, sim.images!.url("/overlong.bin"), "lin", "1.1.0") })).ok, true);
		const failed = await waitFor("failed", () => progress().slice(start).find(p => p.state === "failed"), 30_000);
		assert.equal(failed.error?.code, "E_LENGTH", JSON.stringify(failed));
		assert.ok(!existsSync(RECORDED()), "nothing would boot");
	});

	it("a restart command during the update's reboot window boots once", { skip: sdkSkip }, async () => {
		const start = progress().length;
		const from = sim.watcher.received.length;
		assert.equal((await command({ ...signedStart(sim.signingKey(), small, sim.images!.url("/small.bin"), "lin", "1.1.0") })).ok, true);
		await waitFor("rebooting", () => progress().slice(start).some(p => p.state === "rebooting"), 60_000);
		await send({ id: "race-restart", op: "restart" });
		await waitFor("the birth after the update", () => births(from).length >= 1, 30_000);
		await delay(4_000);	// the old restart timer fired 500 ms after its answer
		const after: Received[] = births(from);
		const reasons = after.map(m => (parse(m.payload) as Status).reason);
		const answered = sim.watcher.received.slice(from).findIndex(m => m.topic === TOPIC("cmd/result") && (parse(m.payload) as CommandResult).id === "race-restart");
		const born = sim.watcher.received.slice(from).indexOf(after[0]);
		assert.ok(answered >= 0 && answered < born, "the restart was answered by the updating device, inside its reboot window");
		assert.deepEqual(reasons, ["ota"], "exactly one boot, for the update");
	});
});

describe("simulator: a topicPrefix the broker will not serve", () => {
	const sim = simulatedDevice("sim-badprefix", { config: { topicPrefix: "$SYS/fleet" }, seconds: 60, awaitBirth: false });
	const lines = () => sim.simulator.lines;

	it("refuses to start and names topicPrefix on the console", { skip: sdkSkip }, async () => {
		const line = await waitFor("the refusal", () => lines().find(text => text.includes("topicPrefix:")), 30_000);
		assert.match(line, /\$SYS\/fleet.*starts with \$/);
		assert.ok(lines().some(text => text.includes("config: refusing to start")), lines().join("\n"));
		assert.ok(!lines().some(text => text.includes("mqtt:")), "no connection attempted");
	});
});
