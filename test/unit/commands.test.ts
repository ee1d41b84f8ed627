/*
 * The command topic through the whole core (Device with fakes): every op's happy path
 * and every error code, results read back from the pins, the retained state.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, type RawConfig } from "../../modules/app/config";
import { Device } from "../../modules/app/device";
import { Gate } from "../../modules/app/command-channel";
import { RESTART_DELAY } from "../../modules/app/commands";
import { FIRMWARE_VERSION } from "../../modules/app/version";
import { FakePins, FakeSystem, FakeTime, FakeTransport, FakeNetwork, MemoryStorage, ScriptedSensor, recordingLog, scriptedRandom } from "./support/fakes";

const COMMAND = "devices/node-1/cmd";
const RESULT = "devices/node-1/cmd/result";
const STATE = "devices/node-1/state";
const SYNC = "devices/node-1/sync";

interface Setup {
	raw?: RawConfig;
	storage?: MemoryStorage;
	pins?: FakePins | null;
	system?: FakeSystem | null;
}

function setup({ raw = {}, storage = new MemoryStorage(), pins = new FakePins(), system = new FakeSystem() }: Setup = {}) {
	const { config, errors } = loadConfig({
		mqttHost: "broker.example.com", deviceId: "node-1", interval: "1000", outputs: "led:2,relay:4", inputs: "button:5", ...raw,
	}, { defaultDeviceId: "unused", wifiRequired: false });
	assert.deepEqual(errors, []);
	const time = new FakeTime({ ticks: 5_000, wall: 1_763_769_600_000 });
	const transport = new FakeTransport();
	const log = recordingLog();
	const device = new Device({
		config, transport, network: new FakeNetwork(true), clock: time, timers: time, log, storage,
		sensor: new ScriptedSensor(), random: scriptedRandom([0.5]), pins: pins ?? undefined, system: system ?? undefined,
	});
	return { device, time, transport, log, storage, pins, system };
}

/** Online, with the settle marker echoed back: commands are executed. */
function ready(options: Setup = {}) {
	const s = setup(options);
	s.device.start();
	s.transport.last.ready();
	const marker = s.transport.last.on(SYNC).find(payload => payload.startsWith("cmd:"));
	assert.ok(marker, "the channel sent its settle marker");
	s.transport.last.message(SYNC, marker);
	assert.equal(s.device.channel.gate, Gate.Open);
	/** Sends one command and returns its parsed result. */
	const send = (command: unknown, retained?: boolean) => {
		const session = s.transport.last;
		const before = session.on(RESULT).length;
		session.message(COMMAND, typeof command === "string" ? command : JSON.stringify(command), retained);
		const results = session.on(RESULT);
		assert.equal(results.length, before + 1, "exactly one answer");
		return JSON.parse(results[results.length - 1]);
	};
	const state = () => JSON.parse(s.transport.last.on(STATE).at(-1)!);
	return { ...s, send, state };
}

function assertError(result: { id: unknown; ok: boolean; error?: { code: string; message: string } }, id: unknown, code: string, mentions?: string) {
	assert.equal(result.ok, false, JSON.stringify(result));
	assert.equal(result.id, id);
	assert.equal(result.error!.code, code, JSON.stringify(result));
	if (mentions !== undefined)
		assert.ok(result.error!.message.includes(mentions), `message ${JSON.stringify(result.error!.message)} names ${mentions}`);
}

// --- happy paths

test("commands: gpio.set drives the pin and answers the level read back; state follows", () => {
	const s = ready();
	assert.deepEqual(s.state(), { gpio: { led: 0, relay: 0, button: 0 } });
	assert.deepEqual(s.send({ id: "c-1", op: "gpio.set", pin: "led", value: 1 }), { id: "c-1", ok: true, pin: "led", value: 1 });
	assert.equal(s.pins!.levels.get("led"), 1);
	assert.deepEqual(s.state(), { gpio: { led: 1, relay: 0, button: 0 } });
	assert.equal(s.transport.last.published.filter(message => message.topic === STATE).every(message => message.retain), true);
	assert.deepEqual(s.send({ id: 2, op: "gpio.set", pin: "led", value: false }), { id: 2, ok: true, pin: "led", value: 0 });
	assert.deepEqual(s.send({ op: "gpio.set", pin: "relay", value: true }), { id: null, ok: true, pin: "relay", value: 1 });
	assert.deepEqual(s.pins!.writes, [["led", 1], ["led", 0], ["relay", 1]]);
});

test("commands: the answer and the state are what the pin reads back, not what was asked", () => {
	const pins = new FakePins();
	pins.stuck.add("led");	// a shorted pin or a driver that ignores writes
	const s = ready({ pins });
	assert.deepEqual(s.send({ id: "r", op: "gpio.set", pin: "led", value: 1 }), { id: "r", ok: true, pin: "led", value: 0 });
	assert.deepEqual(pins.writes, [["led", 1]]);
	assert.deepEqual(s.state(), { gpio: { led: 0, relay: 0, button: 0 } });
});

test("commands: gpio.toggle inverts the pin", () => {
	const s = ready();
	assert.equal(s.send({ id: "t1", op: "gpio.toggle", pin: "relay" }).value, 1);
	assert.equal(s.send({ id: "t2", op: "gpio.toggle", pin: "relay" }).value, 0);
	assert.deepEqual(s.pins!.writes, [["relay", 1], ["relay", 0]]);
});

test("commands: gpio.pulse inverts for ms, then restores; the state shows both", () => {
	const s = ready();
	assert.deepEqual(s.send({ id: "p", op: "gpio.pulse", pin: "relay", ms: 250 }), { id: "p", ok: true, pin: "relay", value: 1, ms: 250 });
	assert.equal(s.state().gpio.relay, 1);
	s.time.advance(249);
	assert.equal(s.pins!.levels.get("relay"), 1);
	s.time.advance(1);
	assert.equal(s.pins!.levels.get("relay"), 0);
	assert.equal(s.state().gpio.relay, 0);
	s.send({ op: "gpio.set", pin: "led", value: 1 });
	s.send({ op: "gpio.pulse", pin: "led", ms: 10 });
	s.time.advance(10);
	assert.equal(s.pins!.levels.get("led"), 1, "a pulse on a high pin goes low and back high");
});

test("commands: gpio.get reads one pin or all, inputs included", () => {
	const s = ready();
	s.send({ op: "gpio.set", pin: "led", value: 1 });
	assert.deepEqual(s.send({ id: "g", op: "gpio.get", pin: "led" }), { id: "g", ok: true, pin: "led", value: 1 });
	assert.deepEqual(s.send({ id: "g", op: "gpio.get", pin: "button" }), { id: "g", ok: true, pin: "button", value: 0 });
	assert.deepEqual(s.send({ id: "all", op: "gpio.get" }), { id: "all", ok: true, gpio: { led: 1, relay: 0, button: 0 } });
});

test("commands: an input change is debounced and published in the state", () => {
	const s = ready();
	const states = () => s.transport.last.on(STATE).length;
	const before = states();
	s.pins!.levels.set("button", 1);
	s.time.advance(40);	// two samples: not yet
	assert.equal(states(), before);
	s.time.advance(20);
	assert.equal(states(), before + 1);
	assert.deepEqual(s.state(), { gpio: { led: 0, relay: 0, button: 1 } });
	// A glitch shorter than three samples is not reported.
	s.pins!.levels.set("button", 0);
	s.time.advance(20);
	s.pins!.levels.set("button", 1);
	s.time.advance(200);
	assert.equal(states(), before + 1);
});

test("commands: telemetry.interval applies the period and persists it for the next boot", () => {
	const storage = new MemoryStorage();
	const s = ready({ storage });
	assert.deepEqual(s.send({ id: "i", op: "telemetry.interval", ms: 5_000 }), { id: "i", ok: true, interval: 5_000 });
	assert.equal(s.device.interval, 5_000);
	assert.equal(storage.get("interval"), 5_000);
	assert.equal(setup({ storage }).device.interval, 5_000, "the next boot uses the stored period over config.interval");
	storage.set("interval", 5);
	assert.equal(setup({ storage }).device.interval, 1_000, "a damaged stored period is ignored");
});

test("commands: status reports the diagnostics", () => {
	const s = ready();
	s.time.advance(61_000);
	const status = s.send({ id: "s", op: "status" });
	assert.deepEqual(status, {
		id: "s", ok: true, uptime: 61, heap: 123_456, rssi: -61, reconnects: 0,
		lastDisconnect: { reason: "none", detail: "" }, queue: 61, dropped: 0, resultsDropped: 0,
		interval: 1_000, fw: FIRMWARE_VERSION, boot: 1,
	});
});

test("commands: status without a System reports heap and rssi as null", () => {
	const status = ready({ system: null }).send({ id: "s", op: "status" });
	assert.equal(status.heap, null);
	assert.equal(status.rssi, null);
});

test("commands: restart answers first, then stops cleanly and restarts", () => {
	const s = ready();
	const session = s.transport.last;
	assert.deepEqual(s.send({ id: "r", op: "restart" }), { id: "r", ok: true, restarting: true, delay: RESTART_DELAY });
	assertError(s.send({ id: "r2", op: "restart" }), "r2", "E_BUSY");
	assert.deepEqual(s.system!.restarts, []);
	s.time.advance(RESTART_DELAY);
	assert.deepEqual(s.system!.restarts, ["restart"]);
	assert.deepEqual(session.closes, [true], "a graceful DISCONNECT before the restart");
});

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

test("commands: an unknown op is E_OP naming it; prototype names are not ops", () => {
	const s = ready();
	assertError(s.send({ id: "o", op: "gpio.explode" }), "o", "E_OP", "gpio.explode");
	assertError(s.send({ id: "o", op: "ota.start", url: "https://x", sha256: "0", version: "2" }), "o", "E_OP");
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
