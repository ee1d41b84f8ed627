/*
 * The pin and update logic report refusals in their own terms (PinError, OtaRefused);
 * only the command table turns them into wire codes (commands.test.ts and
 * ota.test.ts check those codes end to end).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Gpio, PinError, PinFault } from "../../modules/app/commands/gpio";
import { UpdateSignature } from "../../modules/app/updates/signature";
import { Ota, OtaRefusal, OtaRefused } from "../../modules/app/updates/ota";
import { CommandError } from "../../modules/app/commands/result";
import { FakePins, FakeTime } from "./support/fakes";

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

test("ota: start() without the update ports is refused as unavailable, not as a command error", () => {
	const ota = new Ota({
		topic: "t/ota", firmwareVersion: "1.0.0", fetcher: undefined, createHash: undefined, target: undefined,
		restart: undefined, timers: new FakeTime(), log: () => {}, onSendFailed() {},
		signature: UpdateSignature.load(undefined, undefined, "ota-key.der"), trial: { pending: false, installed() {} },
	});
	const error = refusal(() => ota.start({ url: "https://h/x.bin", sha256: "0".repeat(64), version: "2.0.0", size: 1, signature: undefined, force: false }), OtaRefused);
	assert.equal(error.refusal, OtaRefusal.Unavailable);
});
