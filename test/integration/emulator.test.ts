/*
 * npm start's Node emulator (tools/emulator.ts) through an update that fails its trial:
 * the image that boots after the rollback runs the version that ran before the update,
 * never the failed one (issue 18, defect 4: it came back as the failed version, so a
 * fixed image of that version was refused E_VERSION). No broker: the trial cannot
 * confirm, so it reverts at its deadline.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startEmulator } from "../../tools/emulator";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { createNodeDevice, type NodeDevice, type NodeDeviceOptions } from "../../node/device";
import { MemoryStorage } from "../../node/ports";
import { NodeUpdateTarget } from "../../node/update-target";
import { KEY } from "../../modules/app/config/settings";

const fixture = new Fixture();
after(() => fixture.cleanup());

test("emulator: after a rolled-back update it boots the version that ran before, and says rollback", async () => {
	const storage = new MemoryStorage();
	const updateTarget = new NodeUpdateTarget();
	const boots: { options: NodeDeviceOptions; node: NodeDevice }[] = [];
	const emulator = startEmulator({
		// A closed port: no session, so the update on trial never confirms.
		config: { mqttHost: "localhost", mqttPort: 9, otaConfirmTimeout: 1_000, caCert: "ca.der" },
		certsDir: fixture.pkiDir, storage, updateTarget, print: () => undefined, firmwareVersion: "1.0.0",
		create: options => {
			const node = createNodeDevice({ ...options, log: { print: false } });
			boots.push({ options, node });
			return node;
		},
	});
	try {
		assert.equal(boots[0].node.device.firmwareVersion, "1.0.0");
		// An update to 1.1.0 is installed, as the core does it, and the device restarts into it.
		const image = new Uint8Array([1, 2, 3, 4]);
		updateTarget.begin(image.length);
		updateTarget.write(image.buffer);
		updateTarget.complete("1.1.0");
		storage.set(KEY.otaTrial, "1.1.0");
		storage.set(KEY.otaBoots, 0);
		await boots[0].node.device.stop();
		boots[0].options.onRestart!("ota", { firmwareVersion: "1.1.0" });
		await waitFor("the update on trial", () => boots.length === 2, 5_000);
		assert.equal(boots[1].node.device.firmwareVersion, "1.1.0");
		assert.equal(boots[1].options.bootReason, "ota");
		await waitFor("the rollback's boot", () => boots.length === 3, 10_000);
		assert.equal(boots[2].options.bootReason, "rollback");
		assert.equal(boots[2].node.device.firmwareVersion, "1.0.0", "the version that ran before the failed update");
		assert.equal(updateTarget.pending(), false);
	}
	finally {
		await emulator.stop();
	}
});
