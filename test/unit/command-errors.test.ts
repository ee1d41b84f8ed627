/*
 * The command topic through the whole core: every error code, each naming the
 * offending value, and no pin written by a refused command.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RESULT, STATE, assertError, ready } from "./support/command-device";
import { FakePins } from "./support/fakes";

// --- errors

test("commands: E_TOO_LARGE before anything else, E_PARSE, E_SHAPE for non-objects and deep nesting", () => {
	const s = ready();
	assertError(s.send(JSON.stringify({ id: "big", op: "status", pad: "x".repeat(1_100) })), null, "E_TOO_LARGE", "1024");
	assertError(s.send(`{"id":"u","op":"status","pad":"${"é".repeat(520)}"}`), null, "E_TOO_LARGE");	// 1040 bytes in 540 characters
	assertError(s.send("{\"id\":\"x\",\"op\":"), null, "E_PARSE");
	assertError(s.send("\u0000\u00ff garbage"), null, "E_PARSE");
	assertError(s.send("[1,2]"), null, "E_SHAPE", "array");
	assertError(s.send("42"), null, "E_SHAPE");
	assertError(s.send("null"), null, "E_SHAPE");
	assertError(s.send(`{"id":"d","op":"status","a":${"[".repeat(4)}${"]".repeat(4)}}`), null, "E_SHAPE", "nested");
	assertError(s.send("[".repeat(1_000)), null, "E_SHAPE", "nested");
	assertError(s.send("[".repeat(100_000)), null, "E_TOO_LARGE");
	assertError(s.send("{\"a\":".repeat(200)), null, "E_SHAPE", "nested");
});

test("commands: the id is echoed when readable; a bad id is E_SHAPE with id null", () => {
	const s = ready();
	assertError(s.send({ id: "x".repeat(65), op: "status" }), null, "E_SHAPE", "id");
	assertError(s.send({ id: { a: 1 }, op: "status" }), null, "E_SHAPE", "id");
	assertError(s.send({ id: "", op: "status" }), null, "E_SHAPE", "id");
	assert.equal(s.send({ id: "x".repeat(64), op: "status" }).id, "x".repeat(64));
	assert.equal(s.send({ id: 1.5, op: "status" }).id, 1.5);
	assertError(s.send({ id: "no-op" }), "no-op", "E_SHAPE", "op");
	assertError(s.send({ id: "op-type", op: 7 }), "op-type", "E_SHAPE", "op");
});

test("commands: every valid id gets the real answer of status and gpio.get with the most pins; an id over 64 bytes as JSON is E_SHAPE", () => {
	const names = Array.from({ length: 16 }, (_, i) => `output_${i}_`.padEnd(16, "x"));
	const s = ready({ raw: { outputs: names.map((name, i) => `${name}:${i + 1}`).join(","), inputs: "" } });
	// Each is 64 bytes once JSON-escaped: control characters take 6, quotes 2, é 2, an emoji 4.
	for (const id of ["x".repeat(64), "\u0001".repeat(10) + "xxxx", "\"".repeat(32), "é".repeat(32), "😀".repeat(16)])
		for (const op of ["status", "gpio.get"]) {
			const result = s.send({ id, op });
			assert.equal(result.ok, true, `${op} with id ${JSON.stringify(id)}: ${JSON.stringify(result)}`);
			assert.equal(result.id, id);
		}
	for (const id of ["\u0001".repeat(11), "\u0001".repeat(64), "\"".repeat(33), "é".repeat(33), "😀".repeat(17)])
		assertError(s.send({ id, op: "status" }), null, "E_SHAPE", "64 bytes");
});

test("commands: an unknown op is E_OP naming it; prototype names are not ops", () => {
	const s = ready();
	assertError(s.send({ id: "o", op: "gpio.explode" }), "o", "E_OP", "gpio.explode");
	for (const op of ["constructor", "__proto__", "toString", "hasOwnProperty"])
		assertError(s.send({ id: op, op }), op, "E_OP");
});

test("commands: missing, extra and wrongly typed arguments are E_SHAPE naming them", () => {
	const s = ready();
	assertError(s.send({ id: 1, op: "gpio.set", pin: "led" }), 1, "E_SHAPE", "value");
	assertError(s.send({ id: 2, op: "gpio.set", value: 1 }), 2, "E_SHAPE", "pin");
	assertError(s.send({ id: 3, op: "gpio.set", pin: "led", value: 1, force: true }), 3, "E_SHAPE", "force");
	assertError(s.send({ id: 4, op: "gpio.set", pin: 2, value: 1 }), 4, "E_SHAPE", "2");
	assertError(s.send({ id: 5, op: "gpio.set", pin: "led", value: "on" }), 5, "E_SHAPE", "\"on\"");
	assertError(s.send({ id: 6, op: "gpio.pulse", pin: "led", ms: "100" }), 6, "E_SHAPE", "ms");
	assertError(s.send({ id: 7, op: "status", verbose: 1 }), 7, "E_SHAPE", "verbose");
	assertError(s.send({ id: 8, op: "gpio.get", pin: null }), 8, "E_SHAPE");
	assert.deepEqual(s.pins!.writes, []);
});

test("commands: out-of-range numbers are E_RANGE naming the value", () => {
	const s = ready();
	assertError(s.send({ id: 1, op: "gpio.set", pin: "led", value: 2 }), 1, "E_RANGE", "2");
	assertError(s.send({ id: 2, op: "gpio.pulse", pin: "led", ms: 0 }), 2, "E_RANGE", "1..60000");
	assertError(s.send({ id: 3, op: "gpio.pulse", pin: "led", ms: 60_001 }), 3, "E_RANGE", "60001");
	assertError(s.send({ id: 4, op: "gpio.pulse", pin: "led", ms: 1.5 }), 4, "E_RANGE", "1.5");
	assertError(s.send({ id: 5, op: "telemetry.interval", ms: 999 }), 5, "E_RANGE", "999");
	assertError(s.send({ id: 6, op: "telemetry.interval", ms: 3_600_001 }), 6, "E_RANGE");
	assert.equal(s.device.interval, 1_000);
	assert.deepEqual(s.pins!.writes, []);
});

test("commands: unknown pins, raw numbers-as-names and inputs as outputs are E_PIN", () => {
	const s = ready();
	assertError(s.send({ id: 1, op: "gpio.set", pin: "heater", value: 1 }), 1, "E_PIN", "heater");
	assertError(s.send({ id: 2, op: "gpio.set", pin: "2", value: 1 }), 2, "E_PIN", "\"2\"");
	assertError(s.send({ id: 3, op: "gpio.toggle", pin: "button" }), 3, "E_PIN", "input");
	assertError(s.send({ id: 4, op: "gpio.pulse", pin: "constructor", ms: 5 }), 4, "E_PIN");
	assertError(s.send({ id: 5, op: "gpio.get", pin: "nope" }), 5, "E_PIN", "nope");
	assert.deepEqual(s.pins!.writes, []);
});

test("commands: a second pulse, or any write, on a pulsing pin is E_BUSY", () => {
	const s = ready();
	s.send({ op: "gpio.pulse", pin: "relay", ms: 1_000 });
	assertError(s.send({ id: "b1", op: "gpio.pulse", pin: "relay", ms: 10 }), "b1", "E_BUSY", "relay");
	assertError(s.send({ id: "b2", op: "gpio.set", pin: "relay", value: 0 }), "b2", "E_BUSY");
	assert.equal(s.send({ id: "other", op: "gpio.pulse", pin: "led", ms: 10 }).ok, true, "other pins are not busy");
	s.time.advance(1_000);
	assert.equal(s.send({ id: "after", op: "gpio.pulse", pin: "relay", ms: 10 }).ok, true);
});

test("commands: without a Pins port every gpio op is E_PIN and no state is published", () => {
	const s = ready({ pins: null });
	assertError(s.send({ id: 1, op: "gpio.set", pin: "led", value: 1 }), 1, "E_PIN", "unavailable");
	assert.deepEqual(s.send({ id: 2, op: "gpio.get" }), { id: 2, ok: true, gpio: {} });
	assert.deepEqual(s.transport.last.on(STATE), []);
});

test("commands: a pin that fails to open is E_PIN; the others work", () => {
	const pins = new FakePins();
	pins.failing.add("relay");
	const s = ready({ pins });
	assertError(s.send({ id: 1, op: "gpio.toggle", pin: "relay" }), 1, "E_PIN", "GPIO 4");
	assert.equal(s.send({ id: 2, op: "gpio.toggle", pin: "led" }).ok, true);
	assert.deepEqual(s.state(), { gpio: { led: 1, button: 0 } });
});

test("commands: a write that throws is E_INTERNAL and the device keeps running", () => {
	const pins = new FakePins();
	pins.brokenWrites.add("led");
	const s = ready({ pins });
	assertError(s.send({ id: 1, op: "gpio.set", pin: "led", value: 1 }), 1, "E_INTERNAL", "led");
	assert.equal(s.send({ id: 2, op: "status" }).ok, true);
});

test("commands: restart without a System is E_UNAVAILABLE", () => {
	assertError(ready({ system: null }).send({ id: "r", op: "restart" }), "r", "E_UNAVAILABLE");
});

test("commands: every result stays under the TLS record budget", () => {
	const s = ready();
	const id = "\u0001".repeat(64);	// escapes to 6 bytes each
	for (const command of [{ id, op: "x".repeat(900) }, { id, op: "gpio.set", pin: "é".repeat(300), value: 1 }, { id, op: "status" }]) {
		s.send(command);
		assert.ok(Buffer.byteLength(s.transport.last.on(RESULT).at(-1)!) <= 640);
	}
});
