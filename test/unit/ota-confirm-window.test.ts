/*
 * When an image on trial confirms itself (issue 18, defect 3), through the whole core
 * on a fake clock: only after a healthy window, a session online for otaConfirmAfter
 * ms in which the command gate opened and a reading was delivered (its sync marker
 * echoed). Before the fix it confirmed on the first settle marker's return.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { OTA, SYNC, setup } from "./support/command-device";
import { FakeSlots } from "./support/ota-fakes";
import { MemoryStorage } from "./support/fakes";
import { TRIAL_KEY, TrialState } from "../../modules/app/updates/trial";

const AFTER = 10_000;		// ms: otaConfirmAfter
const TIMEOUT = 60_000;		// ms: otaConfirmTimeout
const BACKOFF = 200;		// ms: the longest reconnect wait
const raw = { otaConfirmTimeout: String(TIMEOUT), otaConfirmAfter: String(AFTER), backoffMin: "100", backoffMax: String(BACKOFF) };

/** The boot of an update on trial (1.1.0), as the bootloader starts it. */
function pendingBoot() {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	return setup({ storage, slots: new FakeSlots(true), firmwareVersion: "1.1.0", raw });
}

type Setup = ReturnType<typeof pendingBoot>;
const otaStates = (s: Setup) => s.transport.sessions.flatMap(session => session.on(OTA)).map(payload => JSON.parse(payload).state);

/** Brings the current session up and echoes what the broker would echo: the command marker, and the readings' markers when asked. */
function session(s: Setup, readings: boolean): void {
	const current = s.transport.last;
	current.ready();
	const markers = current.on(SYNC);
	current.message(SYNC, markers.find(payload => payload.startsWith("cmd:"))!);
	if (readings)
		echoReadings(s);
}

function echoReadings(s: Setup): void {
	const reading = s.transport.last.on(SYNC).filter(payload => /^\d+:\d+$/.test(payload)).at(-1);
	assert.ok(reading, "a reading's sync marker went out");
	s.transport.last.message(SYNC, reading);
}

test("confirm window: not on the command gate's opening; after otaConfirmAfter ms online with a reading delivered", () => {
	const s = pendingBoot();
	s.device.start();
	session(s, false);
	assert.deepEqual(s.slots!.calls, [], "not confirmed when the command gate opens");
	assert.equal(s.device.trial.state, TrialState.Pending);
	s.time.advance(1_000);	// one interval: a reading is out whatever else happens
	echoReadings(s);
	s.time.advance(AFTER - 1_001);
	assert.deepEqual(s.slots!.calls, [], "not confirmed before otaConfirmAfter, a reading delivered or not");
	assert.ok(!otaStates(s).includes("confirmed"));
	s.time.advance(1);
	assert.deepEqual(s.slots!.calls, ["confirm"]);
	assert.equal(s.device.trial.state, TrialState.Confirmed);
	assert.deepEqual(JSON.parse(s.transport.last.on(OTA).at(-1)!), { state: "confirmed", version: "1.1.0", boots: 1 });
	s.time.advance(TIMEOUT);
	assert.deepEqual(s.system!.restarts, [], "no rollback after confirming");
});

test("confirm window: the image on trial takes a reading as its session comes up (no waiting a whole interval)", () => {
	const s = pendingBoot();
	s.device.start();
	s.transport.last.ready();
	assert.ok(s.transport.last.on("devices/node-1/telemetry").length >= 1, "a reading at once");
});

test("confirm window: without a delivered reading it waits past otaConfirmAfter, and confirms when one comes back", () => {
	const s = pendingBoot();
	s.device.start();
	session(s, false);
	s.time.advance(AFTER * 2);
	assert.deepEqual(s.slots!.calls, [], "online long enough, but no reading came back");
	echoReadings(s);
	assert.deepEqual(s.slots!.calls, ["confirm"]);
});

test("confirm window: without the command gate it never confirms, and the deadline rolls it back", () => {
	const s = pendingBoot();
	s.device.start();
	s.transport.last.ready();	// the settle marker never comes back: commands stay closed
	echoReadings(s);
	s.time.advance(TIMEOUT);
	assert.deepEqual(s.slots!.calls, ["revert"]);
	assert.deepEqual(s.system!.restarts, ["rollback"]);
});

test("confirm window: going offline restarts it; the next session must stay up otaConfirmAfter ms by itself", () => {
	const s = pendingBoot();
	s.device.start();
	session(s, true);
	s.time.advance(AFTER - 1_000);
	s.transport.last.closeByPeer("connection reset");
	s.time.advance(BACKOFF);
	assert.equal(s.transport.sessions.length, 2, "reconnected");
	session(s, true);
	s.time.advance(AFTER - 1);
	assert.deepEqual(s.slots!.calls, [], "the first session's time does not count");
	s.time.advance(1);
	assert.deepEqual(s.slots!.calls, ["confirm"]);
	assert.deepEqual(otaStates(s).filter(state => state === "confirmed"), ["confirmed"], "reported once");
});

test("confirm window: a restart before the window ends confirms nothing; the boot count rolls it back", () => {
	const storage = new MemoryStorage();
	storage.set(TRIAL_KEY, "1.1.0");
	const slots = new FakeSlots(true);
	for (let n = 1; n <= 3; n++) {
		const s = setup({ storage, slots, firmwareVersion: "1.1.0", raw });
		s.device.start();
		session(s, true);
		s.time.advance(AFTER - 1);
		s.device.stop();	// a crash or restart inside the window
	}
	assert.deepEqual(slots.calls, []);
	const last = setup({ storage, slots, firmwareVersion: "1.1.0", raw });
	last.device.start();
	last.time.advance(0);
	assert.deepEqual(slots.calls, ["revert"]);
});
