/*
 * The command topic through the whole core (Device with fakes): every op's happy path,
 * results read back from the pins, the retained state, debounced inputs.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { STATE, assertError, ready, setup } from "./support/command-device";
import { FakePins, MemoryStorage } from "./support/fakes";
import { RESTART_DELAY } from "../../modules/app/commands/table";
import { FIRMWARE_VERSION } from "../../modules/app/version";

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
		lastDisconnect: { reason: "none", detail: "" }, queue: 61, dropped: 0, commandsDropped: 0, unsent: null,
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

