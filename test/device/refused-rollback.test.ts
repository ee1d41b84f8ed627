/*
 * An update on trial that refuses its config rolls back by itself, in the Linux
 * simulator (XS; issue 18, defect 2). The build names a root it does not bundle
 * (caCert "sim-ca.der,ca-next.der"), so main.ts refuses to start and builds no device.
 * - Not on trial (a fresh build) it refuses as always: the problems, repeated, no
 *   rollback.
 * - With its state folder saying a pending 9.9.9 runs on trial (board/ota-target's
 *   slot versions and the trial record in storage.json, a pending slot file), it traces
 *   the rollback once, discards the pending slot, records the cause for the image that
 *   boots next, and starts over: as the previous image, which (the same code in the
 *   simulator) refuses as always. Before the fix it stayed on the pending image.
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simulatorStateDir } from "../../tools/sdk";
import { waitFor } from "../../tools/harness/wait";
import { KEY } from "../../modules/app/config/settings";
import { FIRMWARE_VERSION } from "../../modules/app/version";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-refused";
const REFUSAL = "config: refusing to start, 1 problem(s):";
// board/ota-target/sim.ts: the slot versions' storage keys and the slot files.
const SLOT_PENDING = "slotPending", SLOT_INSTALLED = "slotInstalled";

describe("simulator: an update on trial that refuses its config", () => {
	let fixture: DeviceFixture;
	let library = "";
	const state = () => simulatorStateDir(library);
	const stored = () => JSON.parse(readFileSync(join(state(), "storage.json"), "utf8")) as Record<string, unknown>;

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		library = await fixture.build(broker.port, ID, { caCert: "sim-ca.der,ca-next.der" });
	});
	after(() => fixture?.cleanup());

	it("refuses as always when not on trial; on trial rolls back once by itself and starts over as the previous image", { skip: sdkSkip }, async () => {
		const fresh = fixture.simulate(library, 60);
		await waitFor("the refusal", () => fresh.lines.some(line => line.includes("ca-next.der")), 60_000);
		await fresh.stop();
		assert.ok(fresh.lines.includes(REFUSAL), fresh.lines.join("\n"));
		assert.ok(!fresh.lines.some(line => line.includes("rolling back")), "not on trial: no rollback");

		// What 1.0.x leaves behind when it installed 9.9.9 and restarted into it.
		const values = existsSync(join(state(), "storage.json")) ? stored() : {};
		writeFileSync(join(state(), "storage.json"), JSON.stringify({
			...values, [SLOT_PENDING]: "9.9.9", [SLOT_INSTALLED]: "", [KEY.otaTrial]: "9.9.9", [KEY.otaFrom]: FIRMWARE_VERSION, [KEY.otaBoots]: 0,
		}));
		writeFileSync(join(state(), `${ID}-pending.bin`), "the image on trial");

		const trial = fixture.simulate(library, 60);
		const rollback = () => trial.lines.findIndex(line => line.includes("rolling back"));
		// Less than the refusal's 60 s repeat: without a rollback nothing else comes.
		await waitFor("the rollback, then the refusal of the image it went back to", () => rollback() >= 0 && trial.lines.lastIndexOf(REFUSAL) > rollback(), 45_000)
			.finally(() => trial.stop());
		const rollbacks = trial.lines.filter(line => line.includes("rolling back"));
		assert.deepEqual(rollbacks, [`config: refusing to start (1 problem(s)); this image (9.9.9) is on trial: rolling back to ${FIRMWARE_VERSION}`], trial.lines.join("\n"));
		const after = stored();
		assert.equal(after[SLOT_PENDING], "", "the pending slot is discarded");
		assert.ok(!existsSync(join(state(), `${ID}-pending.bin`)), "its file too");
		assert.equal(after[KEY.otaTrial], "9.9.9", "kept for the rolled-back report");
		assert.match(String(after[KEY.otaCause]), /^refused to start: caCert: .*ca-next\.der/);
	});
});
