/*
 * Oversized incoming messages in the Linux simulator, on a fixed heap of an ESP32's
 * size (support.ts BOARD_HEAP): a retained 100 KB release on the fleet topic and a
 * 300 KB command. The SDK's mqtt client would allocate each whole before the firmware
 * could look at it, which on a board's heap aborts the VM (risk 9 of issue 18); the
 * transport skips them unread instead. The device stays online, reports the release as
 * ignored on its ota topic with one trace line (issue 20), answers the command
 * E_TOO_LARGE, keeps publishing readings and answers the next command. The test broker
 * has no message_size_limit (the broker kit's 8 KB is the production broker's second
 * line). Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor } from "../../tools/harness/wait";
import { BOARD_HEAP, sdkSkip, simulatedDevice } from "./support";

const RELEASE_TOPIC = "fleet/lin/release";	// the default fleetPrefix and the lin build's model

interface OtaReport { state: string; error?: { code: string; message: string } }
interface Result { id: string | null; ok: boolean; error?: { code: string } }

describe("simulator: oversized incoming messages on a board-sized heap", () => {
	const sim = simulatedDevice("sim-oversize", { creation: BOARD_HEAP });
	const seq = () => Math.max(0, ...sim.messages<{ seq: number }>("telemetry").map(reading => reading.seq));
	const births = () => sim.messages<{ online: boolean }>("status").filter(status => status.online).length;
	const aborted = () => sim.simulator.lines.filter(line => /memory|abort|fixed size heap/i.test(line));

	it("ignores a retained release of 100 KB with one trace line and one report, and stays online", { skip: sdkSkip }, async () => {
		const before = seq();
		const release = JSON.stringify({ model: "lin", version: "9.9.9", pad: "x".repeat(100_000) });
		await sim.watcher.publish(RELEASE_TOPIC, release, true);
		const report = await waitFor("the ignored report", () => sim.messages<OtaReport>("ota").find(entry => entry.state === "ignored"), 30_000)
			.catch(error => { throw new Error(`${error.message}; simulator: ${aborted().join(" | ") || "(no abort line)"}`); });
		assert.equal(report.error?.code, "E_TOO_LARGE");
		await waitFor("readings continue", () => seq() >= before + 2, 20_000);
		const traces = sim.simulator.lines.filter(line => line.includes("ignored: E_TOO_LARGE"));
		assert.equal(traces.length, 1, traces.join("\n"));
		assert.equal(births(), 1, "no reconnect");
		assert.deepEqual(aborted(), []);
	});

	it("answers a 300 KB command E_TOO_LARGE, keeps publishing and answers the next command", { skip: sdkSkip }, async () => {
		const before = seq();
		await sim.watcher.publish(sim.topic("cmd"), JSON.stringify({ id: "huge", op: "status", pad: "y".repeat(300_000) }));
		const answer = await waitFor("the E_TOO_LARGE answer", () => sim.messages<Result>("cmd/result").find(entry => entry.error?.code === "E_TOO_LARGE"), 30_000)
			.catch(error => { throw new Error(`${error.message}; simulator: ${aborted().join(" | ") || "(no abort line)"}`); });
		assert.equal(answer.id, null, "the id of a message not read cannot be echoed");
		await waitFor("readings continue", () => seq() >= before + 2, 20_000);
		const status = await sim.command({ op: "status" });
		assert.equal(status.ok, true);
		assert.equal(births(), 1, "no reconnect");
		assert.deepEqual(aborted(), []);
		await sim.watcher.publish(RELEASE_TOPIC, "", true);
	});
});
