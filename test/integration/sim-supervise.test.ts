/*
 * npm start notices a dead simulator (issue 21, defect 2), as it notices a dead broker:
 * a fake mcsim (a script standing in for the SDK's, run as the real one is: xvfb-run,
 * timeout, stdbuf) prints two lines and dies with SIGSEGV. The death is said with those
 * lines and the simulator started again; one that keeps dying is given up, once.
 * Skipped where xvfb-run is missing (.ci/run installs it).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startSimulator } from "../../tools/sdk";
import { SimulatorSupervisor, describeExit } from "../../tools/sim-supervise";
import { waitFor } from "../../tools/harness/wait";

const noXvfb = spawnSync("xvfb-run", ["--help"], { stdio: "ignore" }).error ? "xvfb-run is not installed" : false;
const sdk = mkdtempSync(join(tmpdir(), "smn-fake-sdk-"));
after(() => rmSync(sdk, { recursive: true, force: true }));

test("simulator supervision: a death is said with its last lines, the simulator restarted; repeated deaths give up once", { skip: noXvfb, timeout: 60_000 }, async () => {
	const bin = join(sdk, "build/bin/lin/release");
	mkdirSync(bin, { recursive: true });
	writeFileSync(join(bin, "mcconfig"), "#!/bin/sh\nexit 1\n");
	writeFileSync(join(bin, "mcsim"), "#!/bin/sh\necho \"mqtt: connecting -> online\"\necho \"cmd: c-9 restart\"\nkill -SEGV $$\n");
	chmodSync(join(bin, "mcconfig"), 0o755);
	chmodSync(join(bin, "mcsim"), 0o755);
	process.env.MODDABLE = sdk;
	const said: string[] = [];
	const gaveUp: string[] = [];
	let launches = 0;
	const supervisor = new SimulatorSupervisor({
		launch: () => { launches++; return startSimulator(join(sdk, "mc.so"), 30); },
		say: line => said.push(line), giveUp: reason => gaveUp.push(reason), maxRestarts: 1,
	});
	supervisor.start();
	await waitFor("giving up", () => gaveUp.length > 0, 30_000);
	assert.equal(launches, 2, "started again once, then given up");
	assert.equal(said.length, 1, said.join("\n"));
	assert.match(said[0], /^simulator: the simulator died \(SIGSEGV \(Segmentation fault\)\); its last lines:\n {4}mqtt: connecting -> online\n {4}cmd: c-9 restart\n/);
	assert.match(said[0], /\nsimulator: starting it again from the same build/);
	assert.equal(gaveUp.length, 1);
	assert.match(gaveUp[0], /it died 2 times in 60 s: run it by hand/);
	await supervisor.stop();
});

test("simulator supervision: exit codes are named", () => {
	assert.equal(describeExit(139), "SIGSEGV (Segmentation fault)");
	assert.equal(describeExit(134), "SIGABRT");
	assert.equal(describeExit(1), "exit code 1");
});
