/*
 * The pin and update logic report refusals in their own terms (PinError, OtaRefused);
 * the command table turns them into wire codes, an update refusal through the one
 * table the update feature owns (REFUSAL_CODES, also used by fleet releases);
 * commands.test.ts, ota.test.ts and fleet.test.ts check those codes end to end.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Gpio, PinError, PinFault } from "../../modules/app/commands/gpio";
import { OtaRefusal, OtaRefused, REFUSAL_CODES } from "../../modules/app/updates/request";
import { Updates } from "../../modules/app/updates/updates";
import { CommandError, ErrorCode } from "../../modules/app/commands/result";
import { FakePins, FakeTime, MemoryStorage } from "./support/fakes";

function gpio(pins = new FakePins()): Gpio {
	return new Gpio({ pins, outputs: { led: 2 }, inputs: { button: 5 }, timers: new FakeTime(), log: () => {}, onChange() {} });
}

function refusal<E extends Error>(run: () => unknown, type: new (...args: never[]) => E): E {
	try {
		run();
	}
	catch (error) {
		assert.ok(error instanceof type, `threw ${error}`);
		assert.ok(!(error instanceof CommandError), "not a command-layer error");
		return error;
	}
	assert.fail("did not throw");
}

test("gpio: an unknown pin, an input written, a pulsing pin and a failed write are PinErrors", () => {
	const pins = new FakePins();
	const bank = gpio(pins);
	assert.equal(refusal(() => bank.set("nope", 1), PinError).fault, PinFault.Unknown);
	assert.equal(refusal(() => bank.set("button", 1), PinError).fault, PinFault.Unknown);
	bank.pulse("led", 100);
	assert.equal(refusal(() => bank.toggle("led"), PinError).fault, PinFault.Busy);
	bank.stop();
	pins.brokenWrites.add("led");
	assert.equal(refusal(() => gpio(pins).set("led", 1), PinError).fault, PinFault.WriteFailed);
});

test("ota: start() and cancel() without the update ports are refused as unavailable, not as command errors", () => {
	const updates = new Updates({
		ports: {}, topic: "t/ota", firmwareVersion: "1.0.0", keyName: "ota-key.der", confirmTimeout: 1_000, confirmAfter: 500,
		storage: new MemoryStorage(), timers: new FakeTime(), log: () => {}, restart: undefined, freeHeap: undefined, onSendFailed() {},
		fleet: { model: "lin", deviceId: "d", fleetPrefix: "fleet", releaseWindow: 0, random: () => 0 },
	});
	const error = refusal(() => updates.begin({ url: "https://h/x.bin", model: "lin", sha256: "0".repeat(64), version: "2.0.0", size: 1, signature: undefined, force: false }), OtaRefused);
	assert.equal(error.refusal, OtaRefusal.Unavailable);
	assert.equal(refusal(() => updates.cancel(), OtaRefused).refusal, OtaRefusal.Unavailable);
	assert.equal(updates.ota, undefined, "nothing built for a refused start");
});

test("ota: every update refusal has one wire code, a command error code, and no two refusals share one", () => {
	const refusals = Object.values(OtaRefusal);
	assert.deepEqual(Object.keys(REFUSAL_CODES).sort(), [...refusals].sort());
	const codes: string[] = Object.values(ErrorCode);
	for (const refusal of refusals)
		assert.ok(codes.includes(REFUSAL_CODES[refusal]), `${refusal}: ${REFUSAL_CODES[refusal]} is not an ErrorCode`);
	assert.equal(new Set(Object.values(REFUSAL_CODES)).size, refusals.length);
	assert.ok(Object.isFrozen(REFUSAL_CODES));
});
