/*
 * Each simulator build is a device of its own (issue 18, defect 8): two builds run side
 * by side each count their own boots from 1; a restart of a build keeps its state (the
 * next boot number); a build linked again is a fresh device. Before the fix every lin
 * simulator on the machine kept its boot counter, trial state and boot slots in one
 * /tmp/modpreferences.json. Skipped, and reported as skipped, where no Moddable SDK is
 * installed.
 */

import assert from "node:assert/strict";
import { existsSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, type Watcher } from "../../tools/harness/watcher";
import { simulatorStateDir, type Simulator } from "../../tools/sdk";
import { DeviceFixture, sdkSkip } from "./support";

const IDS = ["sim-state-a", "sim-state-b"] as const;

interface Birth { online: boolean; boot?: number }

describe("simulator: each build keeps its own state", () => {
	let fixture: DeviceFixture;
	let watcher: Watcher;
	let libraries: string[] = [];

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		libraries = await Promise.all(IDS.map(id => fixture.build(broker.port, id)));
		watcher = await fixture.watcher({ port: broker.port, topics: IDS.map(id => `devices/${id}/status`) });
	});
	after(() => fixture?.cleanup());

	/** Starts build `index` and returns it with the boot number of its birth. */
	async function boot(index: number): Promise<{ simulator: Simulator; boot: number }> {
		const topic = `devices/${IDS[index]}/status`;
		const from = watcher.on(topic).length;
		const simulator = fixture.simulate(libraries[index], 120);
		await watcher.waitFor(topic, (payload, message) => (payload as Birth).online === true && watcher.on(topic).indexOf(message) >= from, 90_000);
		const birth = watcher.on(topic).slice(from).map(message => parse(message.payload) as Birth).find(payload => payload.online)!;
		return { simulator, boot: birth.boot! };
	}

	it("counts boots per build, side by side, and starts over when the build is linked again", { skip: sdkSkip }, async () => {
		const a1 = await boot(0);
		assert.equal(a1.boot, 1, "a fresh build boots as a fresh device");
		assert.ok(a1.simulator.lines.some(line => line.startsWith("state: fresh device in ")), a1.simulator.lines.join("\n"));
		const b1 = await boot(1);
		assert.equal(b1.boot, 1, "the other build, running beside it, has its own counter");
		await a1.simulator.stop();
		const a2 = await boot(0);
		assert.equal(a2.boot, 2, "a restart of the same build keeps its state");
		assert.ok(!a2.simulator.lines.some(line => line.startsWith("state: fresh device")));
		await Promise.all([a2.simulator.stop(), b1.simulator.stop()]);
		const b2 = await boot(1);
		assert.equal(b2.boot, 2, "build b counted only its own boots");
		await b2.simulator.stop();
		assert.ok(existsSync(join(simulatorStateDir(libraries[0]), "storage.json")), "the state lives beside the build");

		const later = new Date(Date.now() + 5_000);
		utimesSync(libraries[0], later, later);	// what linking it again does to the library's stamp
		const a3 = await boot(0);
		assert.equal(a3.boot, 1, "a build linked again is a fresh device");
		await a3.simulator.stop();
	});
});
