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
		config: { mqttHost: "localhost", mqttPort: 9, otaConfirmTimeout: 2_000, otaConfirmAfter: 1_000, caCert: "ca.der" },
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

test("emulator: an update on trial that refuses its config rolls back by itself and boots the version before it (issue 18, defect 2)", async () => {
	const storage = new MemoryStorage();
	const updateTarget = new NodeUpdateTarget();
	// 1.1.0 was installed by 1.0.0 and is on trial: what the core records before the restart into it.
	const image = new Uint8Array([1, 2, 3, 4]);
	updateTarget.begin(image.length);
	updateTarget.write(image.buffer);
	updateTarget.complete("1.1.0");
	storage.set(KEY.otaTrial, "1.1.0");
	storage.set(KEY.otaFrom, "1.0.0");
	storage.set(KEY.otaBoots, 0);
	const lines: string[] = [];
	const boots: { options: NodeDeviceOptions; node: NodeDevice }[] = [];
	const config = { mqttHost: "localhost", mqttPort: 9, caCert: "ca.der" };
	const emulator = startEmulator({
		config, certsDir: fixture.pkiDir, storage, updateTarget, print: line => lines.push(line), firmwareVersion: "1.0.0",
		create: options => {
			// The new image names a CA it does not bundle: it refuses to start.
			const refusing = updateTarget.pending() ? { ...options.config, caCert: "ca.der,ca-next.der" } : options.config;
			const node = createNodeDevice({ ...options, config: refusing, log: { print: false } });
			boots.push({ options, node });
			return node;
		},
	});
	try {
		await waitFor("the boot after the rollback", () => boots.length === 1, 5_000);
		assert.ok(lines.some(line => line.startsWith("config: refusing to start (1 problem(s)); this image (1.1.0) is on trial: rolling back to 1.0.0")), lines.join("\n"));
		assert.equal(updateTarget.pending(), false, "reverted");
		assert.equal(boots[0].options.bootReason, "rollback");
		assert.equal(boots[0].node.device.firmwareVersion, "1.0.0");
		assert.equal(boots[0].node.device.updates.bootReason, "rollback", "the birth will say rollback");
		assert.match(String(storage.get(KEY.otaCause)), /^refused to start: caCert: .*ca-next\.der/);
	}
	finally {
		await emulator.stop();
	}
});

test("emulator: an image not on trial that refuses its config refuses as before (throws, no rollback)", () => {
	const storage = new MemoryStorage();
	const updateTarget = new NodeUpdateTarget();
	assert.throws(() => startEmulator({
		config: { mqttHost: "localhost", mqttPort: 9, caCert: "ca.der,ca-next.der" },
		certsDir: fixture.pkiDir, storage, updateTarget, print: () => undefined, firmwareVersion: "1.0.0",
	}), /invalid config[\s\S]*ca-next\.der/);
	assert.equal(storage.get(KEY.otaCause), undefined);
});
