/*
 * Boot confirmation and rollback (OtaTrial) through the whole core on a fake clock:
 * a pending image confirms after its healthy window (ota-confirm-window.test.ts has
 * the window's own rules), or reverts after
 * otaConfirmTimeout or on its fourth boot; the image that boots after a revert says
 * "rollback" in its birth and reports the failed version on the ota topic.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMAND, OTA, RESULT, SYNC, assertError, ready, setup, signedOta } from "./support/command-device";
import { FakeSlots, image } from "./support/ota-fakes";
import { MemoryStorage } from "./support/fakes";
import { BOOTS_KEY, CAUSE_KEY, FROM_KEY, MAX_TRIAL_BOOTS, TRIAL_KEY, TrialState, refusedOnTrial } from "../../modules/app/updates/trial";
import { REBOOT_DELAY } from "../../modules/app/updates/ota";

const STATUS = "devices/node-1/status";
const TIMEOUT = 60_000;
const AFTER = 5_000;	// ms: otaConfirmAfter
const raw = { otaConfirmTimeout: String(TIMEOUT), otaConfirmAfter: String(AFTER) };
const { bytes: IMAGE, sha256: SHA } = image(4_000);

type Setup = ReturnType<typeof setup>;
const birth = (s: Setup) => JSON.parse(s.transport.last.on(STATUS)[0]);
const otaMessages = (s: Setup) => s.transport.sessions.flatMap(session => session.on(OTA)).map(payload => JSON.parse(payload));

/** Starts the device and brings a session up to just before its settle marker returns. */
function online(s: Setup): string {
	s.device.start();
	s.transport.last.ready();
	const marker = s.transport.last.on(SYNC).find(payload => payload.startsWith("cmd:"));
	assert.ok(marker);
	return marker;
}

/** Echoes the marker of the last reading sent (the broker's echo: it was delivered). */
function delivered(s: Setup): void {
	const reading = s.transport.last.on(SYNC).filter(payload => /^\d+:\d+$/.test(payload)).at(-1);
	assert.ok(reading);
	s.transport.last.message(SYNC, reading);
}

/** One boot of the image on the given flash (storage + slots), as after a restart. */
function boot(storage: MemoryStorage, slots: FakeSlots, firmwareVersion = "1.1.0") {
	return setup({ storage, slots, firmwareVersion, raw });
}

test("trial: an installed update records its version and the one it replaces; the pending image confirms after its healthy window", () => {
	const storage = new MemoryStorage();
	const slots = new FakeSlots();
	const old = ready({ storage, slots, raw });
	assert.equal(old.device.trial.state, TrialState.Settled);
	assert.equal(old.send(signedOta({ url: "https://u.example.com/fw.bin", sha256: SHA, version: "1.1.0", size: IMAGE.length })).ok, true);
	old.fetcher!.last.respond(200, IMAGE.length);
	old.fetcher!.last.data(IMAGE);
	old.fetcher!.last.done();
	old.time.advance(REBOOT_DELAY);
	assert.deepEqual(old.system!.restarts, ["ota"]);
	assert.equal(storage.get(TRIAL_KEY), "1.1.0");
	assert.equal(storage.get(FROM_KEY), "1.0.0");

	slots.isPending = true;	// the bootloader starts the new image on trial
	const s = boot(storage, slots);
	assert.equal(s.device.trial.state, TrialState.Pending);
	const marker = online(s);
	assert.equal(birth(s).reason, "power-on");
	assert.deepEqual(slots.calls, [], "not confirmed before the marker came back");
	s.transport.last.message(SYNC, marker);
	delivered(s);
	assert.deepEqual(slots.calls, [], "not before otaConfirmAfter");
	s.time.advance(AFTER);
	assert.deepEqual(slots.calls, ["confirm"]);
	assert.equal(s.device.trial.state, TrialState.Confirmed);
	assert.deepEqual(otaMessages(s).at(-1), { state: "confirmed", version: "1.1.0", boots: 1 });
	assert.equal(storage.get(TRIAL_KEY), "");
	s.time.advance(TIMEOUT * 2);
	assert.deepEqual(slots.calls, ["confirm"], "no rollback after confirmation");
	assert.deepEqual(s.system!.restarts, []);
});

test("trial: not confirmed within otaConfirmTimeout reverts and restarts; the next birth says rollback and the ota topic names the failed version", () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	const slots = new FakeSlots(true);
	const s = boot(storage, slots);
	s.device.start();	// the broker stays unreachable: no session ever
	s.time.advance(TIMEOUT - 1);
	assert.deepEqual(slots.calls, []);
	s.time.advance(1);
	assert.deepEqual(slots.calls, ["revert"]);
	assert.deepEqual(s.system!.restarts, ["rollback"]);
	assert.equal(s.device.trial.state, TrialState.Reverting);

	const back = boot(storage, slots, "1.0.0");
	assert.equal(back.device.trial.state, TrialState.RolledBack);
	const marker = online(back);
	assert.equal(birth(back).reason, "rollback");
	assert.equal(birth(back).fw, "1.0.0");
	back.transport.last.message(SYNC, marker);
	assert.deepEqual(otaMessages(back), [{ state: "rolled-back", version: "1.1.0", running: "1.0.0", cause: `not confirmed within ${TIMEOUT} ms` }]);
	assert.equal(storage.get(TRIAL_KEY), "");

	const later = boot(storage, slots, "1.0.0");
	online(later);
	assert.equal(birth(later).reason, "power-on", "reported once");
	assert.equal(later.device.trial.state, TrialState.Settled);
});

test("trial: a rollback not yet reported is reported again by the next boot", () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	const slots = new FakeSlots(false);	// ESP32: the bootloader went back by itself
	const first = boot(storage, slots, "1.0.0");
	online(first);	// the marker never comes back
	const second = boot(storage, slots, "1.0.0");
	const marker = online(second);
	assert.equal(birth(second).reason, "rollback");
	second.transport.last.message(SYNC, marker);
	assert.equal(otaMessages(second).at(-1).cause, "rebooted before confirming (the bootloader went back)");
});

test(`trial: the boot after ${MAX_TRIAL_BOOTS} unconfirmed boots reverts at once`, () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	const slots = new FakeSlots(true);
	for (let n = 1; n <= MAX_TRIAL_BOOTS; n++) {
		const s = boot(storage, slots);
		s.device.start();
		s.time.advance(TIMEOUT / 2);
		s.device.stop();	// a crash or restart before the deadline
		assert.equal(storage.get(BOOTS_KEY), n);
		assert.deepEqual(slots.calls, []);
	}
	const last = boot(storage, slots);
	last.device.start();
	last.time.advance(0);
	assert.deepEqual(slots.calls, ["revert"]);
	assert.deepEqual(last.system!.restarts, ["rollback"]);
	const back = boot(storage, slots, "1.0.0");
	const marker = online(back);
	back.transport.last.message(SYNC, marker);
	assert.match(otaMessages(back).at(-1).cause, /booted 3 times/);
});

test("trial: a confirm that fails keeps the deadline (and the record); a revert that fails stays put", () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	const slots = new FakeSlots(true);
	slots.throwOn = "confirm";
	const s = boot(storage, slots);
	const marker = online(s);
	s.transport.last.message(SYNC, marker);
	delivered(s);
	s.time.advance(AFTER);
	assert.deepEqual(slots.calls, ["confirm"]);
	assert.equal(s.device.trial.state, TrialState.Pending);
	assert.equal(storage.get(TRIAL_KEY), "1.1.0");
	s.transport.last.message(COMMAND, JSON.stringify(signedOta({ url: "https://u.example.com/fw.bin", sha256: SHA, version: "1.2.0", size: IMAGE.length })));
	assertError(JSON.parse(s.transport.last.on(RESULT).at(-1)!), "u", "E_BUSY", "on trial");
	slots.throwOn = "revert";
	s.time.advance(TIMEOUT);
	assert.deepEqual(slots.calls, ["confirm", "revert"]);
	assert.deepEqual(s.system!.restarts, [], "no restart into the same unconfirmed image");
	assert.ok(s.log.lines.some(line => line.includes("cannot roll back")));
});

test("trial: without boot slots nothing is pending and a stale record is ignored", () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	const s = setup({ storage, slots: null, raw });
	assert.equal(s.device.trial.state, TrialState.Settled);
	online(s);
	assert.equal(birth(s).reason, "power-on");
});

test("trial: an image on trial that refuses to start reverts by itself; the next boot reports it with the refusal as cause", () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	storage.set(FROM_KEY, "1.0.0");
	const slots = new FakeSlots(true);
	const lines: string[] = [];
	const problems = ["caCert: \"ca-next.der\" is not bundled", "sensor: \"x\" is not one of simulated, adc"];
	assert.equal(refusedOnTrial({ slots, storage, log: line => lines.push(line), runningVersion: "1.1.0", problems }), true);
	assert.deepEqual(slots.calls, ["revert"]);
	assert.deepEqual(lines, ["config: refusing to start (2 problem(s)); this image (1.1.0) is on trial: rolling back to 1.0.0"]);

	const back = boot(storage, slots, "1.0.0");
	assert.equal(back.device.trial.state, TrialState.RolledBack);
	const marker = online(back);
	assert.equal(birth(back).reason, "rollback");
	back.transport.last.message(SYNC, marker);
	assert.deepEqual(otaMessages(back), [{ state: "rolled-back", version: "1.1.0", running: "1.0.0", cause: `refused to start: ${problems[0]} (and 1 more)` }]);
});

test("trial: an image not on trial that refuses to start is left alone (it refuses as always)", () => {
	const storage = new MemoryStorage();
	const lines: string[] = [];
	for (const slots of [new FakeSlots(false), undefined]) {
		assert.equal(refusedOnTrial({ slots, storage, log: line => lines.push(line), runningVersion: "1.0.0", problems: ["mqttHost: required"] }), false);
		assert.deepEqual(slots?.calls ?? [], []);
	}
	assert.deepEqual(lines, []);
	assert.equal(storage.get(CAUSE_KEY), undefined);
});

test("trial: a refusing image on trial whose revert fails stays (and says so); one with no install record names its own version", () => {
	const storage = new MemoryStorage();
	const slots = new FakeSlots(true);
	slots.throwOn = "revert";
	const lines: string[] = [];
	assert.equal(refusedOnTrial({ slots, storage, log: line => lines.push(line), runningVersion: "1.1.0", problems: ["x"] }), false);
	assert.match(lines[0], /this image \(1\.1\.0\) is on trial: rolling back to the previous image$/);
	assert.match(lines[1], /^config: cannot roll back: .*; staying on 1\.1\.0$/);
});
