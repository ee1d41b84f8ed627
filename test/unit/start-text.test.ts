/*
 * What npm start prints stays true (issue 21, defects 4 and 5): the emulator's line
 * names the interval the device will use, the update hint names a version the device
 * accepts, and --reset deletes every file the emulator keeps its state in.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { emulatorFiles, emulatorSummary, resetEmulator } from "../../tools/emulator";
import { nextVersion, updateHint } from "../../tools/start-hints";
import { compareVersions } from "../../modules/app/updates/request";
import { FIRMWARE_VERSION } from "../../modules/app/version";
import { MemoryStorage } from "../../node/ports";
import { NodeUpdateTarget } from "../../node/update-target";
import { storeInterval } from "../../modules/app/config/settings";

describe("npm start's text", () => {
	const dir = mkdtempSync(join(tmpdir(), "smn-start-text-"));
	after(() => rmSync(dir, { recursive: true, force: true }));

	it("says the interval a telemetry.interval command left, not the default", () => {
		const storage = new MemoryStorage();
		assert.match(emulatorSummary(storage, join(dir, "node-device.json"), dir), /a reading every 2 s; /);
		storeInterval(storage, 5_000);
		assert.match(emulatorSummary(storage, join(dir, "node-device.json"), dir), /a reading every 5 s \(set by telemetry\.interval; 2 s when new\); /);
	});

	it("hints an update to a version above the running one", () => {
		for (const running of [FIRMWARE_VERSION, "1.0.0", "1.1.0", "1.9.3", "2", "1.0.0-rc1", "banana"])
			assert.ok(compareVersions(nextVersion(running), running) > 0, `${nextVersion(running)} > ${running}`);
		assert.equal(nextVersion("1.1.0"), "1.2.0");
		assert.match(updateHint("dev-node", "1.1.0"), /^update: npm run ota -- <image file> --device dev-node --version 1\.2\.0 /);
	});

	it("--reset deletes the storage and every boot slot, so the next update's previous is the built-in image", () => {
		const state = join(dir, "node-device.json");
		const image = join(dir, "node-ota.bin");
		writeFileSync(state, '{"boot":7,"interval":5000}\n');
		const target = new NodeUpdateTarget({ path: image });
		for (const version of ["1.1.0", "1.3.0"]) {
			target.begin(3);
			target.write(new Uint8Array([1, 2, 3]).buffer);
			target.complete(version);
			target.confirm();
		}
		assert.deepEqual(target.slots, { installed: "1.3.0", previous: "1.1.0" });
		const removed = resetEmulator(emulatorFiles(state, image));
		assert.ok(removed.includes(`${image}.previous`) && removed.includes(`${image}.slots.json`), removed.join());
		for (const file of emulatorFiles(state, image))
			assert.equal(existsSync(file), false, file);
		const fresh = new NodeUpdateTarget({ path: image });
		assert.deepEqual(fresh.slots, {});
		assert.equal(fresh.version(), undefined, "boots the built-in image");
	});
});
