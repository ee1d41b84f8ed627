/*
 * A stopped device never acts again: stop() clears every timer the device owns, and
 * a restart command answered during an update's reboot window does not restart a
 * second time (defect: the old device's restart timer fired after the update's
 * restart had already booted a new one).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, signedOta } from "./support/command-device";
import { image } from "./support/ota-fakes";
import { REBOOT_DELAY } from "../../modules/app/updates/ota";
import { RESTART_DELAY } from "../../modules/app/commands/table";

const URL = "https://updates.example.com/fw/1.1.0.bin";
const { bytes: IMAGE, sha256: SHA } = image(4_000);

test("device: a restart command during the update's reboot window restarts once", () => {
	const s = ready();
	assert.equal(s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }, { id: "u" })).ok, true);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE);
	s.fetcher!.last.done();
	s.time.advance(REBOOT_DELAY - 100);
	assert.equal(s.send({ id: "r", op: "restart" }).ok, true);
	s.time.advance(RESTART_DELAY + REBOOT_DELAY);
	assert.deepEqual(s.system!.restarts, ["ota"]);
	assert.equal(s.time.pending, 0, "no timer survives the stop");
});

test("device: a restart command that fires first stops the device; the update's reboot never follows", () => {
	const s = ready();
	assert.equal(s.send({ id: "r", op: "restart" }).ok, true);
	s.time.advance(RESTART_DELAY);
	assert.deepEqual(s.system!.restarts, ["restart"]);
	assert.equal(s.time.pending, 0);
});

test("device: stop() leaves no timer behind, whatever was under way", () => {
	const s = ready();
	s.send({ id: "p", op: "gpio.pulse", pin: "led", ms: 5_000 });
	s.send({ id: "r", op: "restart" });
	s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }, { id: "u" }));
	s.device.stop();
	assert.equal(s.time.pending, 0, `pending after stop: ${s.time.pendingDelays}`);
	s.time.advance(120_000);
	assert.deepEqual(s.system!.restarts, []);
});
