/*
 * The command channel in the Device: the retained-command gate (settle marker and
 * retain flag), the bounded result outbox under a full socket, state on every session.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../modules/app/config/config";
import { Device } from "../../modules/app/device";
import { Gate, REFUSED_BUDGET, SETTLE_RETRY } from "../../modules/app/commands/channel";
import { MAX_ID } from "../../modules/app/commands/parse";
import { RETRY } from "../../modules/app/connection/outbox";
import { State } from "../../modules/app/connection/connection";
import { FakePins, FakeSession, FakeSystem, FakeTime, FakeTransport, FakeNetwork, MemoryStorage, ScriptedSensor, recordingLog, scriptedRandom } from "./support/fakes";

const COMMAND = "devices/node-1/cmd";
const RESULT = "devices/node-1/cmd/result";
const STATE = "devices/node-1/state";
const SYNC = "devices/node-1/sync";
const GPIO_SET = "devices/node-1/gpio/+/set";
const SET_LED = JSON.stringify({ id: "stale", op: "gpio.set", pin: "led", value: 1 });

function online() {
	const { config } = loadConfig({ mqttHost: "b", deviceId: "node-1", outputs: "led:2" }, { defaultDeviceId: "x", wifiRequired: false });
	const time = new FakeTime({ ticks: 0, wall: 1_763_769_600_000 });
	const transport = new FakeTransport();
	const pins = new FakePins();
	const device = new Device({
		config, transport, network: new FakeNetwork(true), clock: time, timers: time, log: recordingLog(),
		storage: new MemoryStorage({ boot: 6 }), sensor: new ScriptedSensor(), random: scriptedRandom([0]), pins, system: new FakeSystem(),
	});
	device.start();
	transport.last.ready();
	return { device, time, transport, pins };
}

const cmdMarkers = (session: FakeSession) => session.on(SYNC).filter(payload => payload.startsWith("cmd:"));
const results = (session: FakeSession) => session.on(RESULT).map(payload => JSON.parse(payload));

test("channel: after subscribing, the retained command is deleted, then the settle marker is sent", () => {
	const { transport } = online();
	const session = transport.last;
	assert.deepEqual(session.subscriptions, [COMMAND, GPIO_SET, SYNC]);
	const order = session.published.map(message => `${message.topic}|${message.payload}|${message.retain}`);
	const clear = order.indexOf(`${COMMAND}||true`);
	const marker = order.indexOf(`${SYNC}|cmd:7:1|false`);
	assert.ok(clear >= 0 && marker > clear, order.join("\n"));
});

test("channel: a command before the settle marker returns is refused with E_RETAINED, not executed", () => {
	const { device, transport, pins } = online();
	const session = transport.last;
	assert.equal(device.channel.gate, Gate.Settling);
	session.message(COMMAND, SET_LED);
	assert.deepEqual(results(session), [{ id: "stale", ok: false, error: { code: "E_RETAINED", message: "retained command not executed; publish it again without retain" } }]);
	assert.deepEqual(pins.writes, []);
	session.message(SYNC, "cmd:7:1");
	assert.equal(device.channel.gate, Gate.Open);
	session.message(COMMAND, SET_LED);
	assert.equal(results(session)[1].ok, true);
	assert.deepEqual(pins.writes, [["led", 1]]);
});

test("channel: a message the transport marks retained is refused even after settling", () => {
	const { transport, pins } = online();
	const session = transport.last;
	session.message(SYNC, "cmd:7:1");
	session.message(COMMAND, SET_LED, true);
	assert.equal(results(session)[0].error.code, "E_RETAINED");
	session.message(COMMAND, "{not json", true);
	assert.deepEqual(results(session)[1], { id: null, ok: false, error: { code: "E_RETAINED", message: "retained command not executed; publish it again without retain" } });
	assert.deepEqual(pins.writes, []);
});

test("channel: an empty payload (the deletion echoed back) is ignored without an answer", () => {
	const { transport } = online();
	transport.last.message(COMMAND, "");
	transport.last.message(SYNC, "cmd:7:1");
	transport.last.message(COMMAND, "");
	assert.deepEqual(results(transport.last), []);
});

test("channel: stale or foreign markers do not open the gate; a lost marker is sent again", () => {
	const { device, time, transport } = online();
	const session = transport.last;
	for (const marker of ["cmd:6:1", "cmd:7:2", "cmd:7:0", "cmd:7:1x", "7:1"])
		session.message(SYNC, marker);
	assert.equal(device.channel.gate, Gate.Settling);
	time.advance(SETTLE_RETRY);
	assert.deepEqual(cmdMarkers(session), ["cmd:7:1", "cmd:7:2"]);
	session.message(SYNC, "cmd:7:1");	// the first one arrived late after all: still this session's
	assert.equal(device.channel.gate, Gate.Open);
	time.advance(SETTLE_RETRY * 3);
	assert.equal(cmdMarkers(session).length, 2, "no more markers once settled");
});

test("channel: every new session settles again; the previous session's marker does not count", () => {
	const { device, time, transport } = online();
	transport.last.message(SYNC, "cmd:7:1");
	transport.last.closeByPeer("gone");
	while (transport.opens === 1)
		time.advance(10);
	transport.last.ready();
	assert.equal(device.channel.gate, Gate.Settling);
	transport.last.message(SYNC, "cmd:7:1");
	assert.equal(device.channel.gate, Gate.Settling);
	transport.last.message(SYNC, cmdMarkers(transport.last)[0]);
	assert.equal(device.channel.gate, Gate.Open);
});

test("channel: command markers are not taken as telemetry confirmations", () => {
	const { device, time, transport } = online();
	time.advance(3 * 10_000);
	assert.equal(device.telemetry.queued, 3);
	transport.last.message(SYNC, "cmd:7:1");
	transport.last.message(SYNC, "cmd:7:3");
	assert.equal(device.telemetry.queued, 3);
	transport.last.message(SYNC, "7:3");
	assert.equal(device.telemetry.queued, 0);
});

test("channel: the retained state is published on every session", () => {
	const { time, transport } = online();
	assert.deepEqual(transport.last.on(STATE), ["{\"gpio\":{\"led\":0}}"]);
	transport.last.closeByPeer("gone");
	while (transport.opens === 1)
		time.advance(10);
	transport.last.ready();
	assert.deepEqual(transport.last.on(STATE), ["{\"gpio\":{\"led\":0}}"]);
});

test("outbox: a result refused by a full socket is retried on a later turn, not lost", () => {
	const { time, transport } = online();
	const session = transport.last;
	session.message(SYNC, "cmd:7:1");
	let full = true;
	session.onPublish = topic => (topic === RESULT && full ? "full" : "ok");
	session.message(COMMAND, "{\"id\":\"a\",\"op\":\"status\"}");
	session.message(COMMAND, "{\"id\":\"b\",\"op\":\"gpio.get\"}");
	assert.deepEqual(results(session), []);
	time.advance(RETRY);
	assert.deepEqual(results(session), []);
	full = false;
	time.advance(RETRY);
	assert.deepEqual(results(session).map(result => result.id), ["a", "b"]);
});

test("outbox: beyond 8 waiting results commands are refused with E_BUSY, not executed, and every one is answered once", () => {
	const { device, time, transport, pins } = online();
	const session = transport.last;
	session.message(SYNC, "cmd:7:1");
	let full = true;
	session.onPublish = topic => (topic === RESULT && full ? "full" : "ok");
	for (let i = 1; i <= 11; i++)
		session.message(COMMAND, JSON.stringify({ id: i, op: "gpio.toggle", pin: "led" }));
	assert.equal(pins.writes.length, 8, "only the commands whose answers fit ran");
	assert.equal(device.channel.refused, 3);
	full = false;
	time.advance(RETRY);
	const answers = results(session);
	assert.deepEqual(answers.map(result => result.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
	assert.deepEqual(answers.slice(8).map(result => result.error.code), ["E_BUSY", "E_BUSY", "E_BUSY"]);
	assert.equal(device.channel.outbox.dropped, 0);
	assert.equal(device.channel.refused, 0);
	session.message(COMMAND, "{\"id\":\"s\",\"op\":\"status\"}");
	assert.equal(results(session).at(-1).commandsDropped, 0);
	assert.equal(results(session).at(-1).ok, true, "executed again once the refusals left");
});

test("outbox: past the refusal budget a command is neither executed nor answered, and counted", () => {
	const { device, time, transport, pins } = online();
	const session = transport.last;
	session.message(SYNC, "cmd:7:1");
	let full = true;
	session.onPublish = topic => (topic === RESULT && full ? "full" : "ok");
	const id = (i: number) => `${i}`.padStart(MAX_ID, "x");
	const count = 8 + Math.floor(REFUSED_BUDGET / (MAX_ID + 16)) + 5;
	for (let i = 0; i < count; i++)
		session.message(COMMAND, JSON.stringify({ id: id(i), op: "gpio.toggle", pin: "led" }));
	assert.equal(pins.writes.length, 8);
	assert.equal(device.channel.dropped, 5);
	full = false;
	time.advance(RETRY * 10);
	const ids = results(session).map(result => result.id);
	assert.equal(ids.length, count - 5, "everything kept was answered");
	assert.equal(new Set(ids).size, ids.length, "each once");
	session.message(COMMAND, "{\"id\":\"s\",\"op\":\"status\"}");
	assert.equal(results(session).at(-1).commandsDropped, 5);
	assert.equal(pins.writes.length, 8, "the dropped ones never ran");
});

test("outbox: a publish that throws ends the session; the waiting result goes out on the next", () => {
	const { device, time, transport } = online();
	const first = transport.last;
	first.message(SYNC, "cmd:7:1");
	first.onPublish = topic => (topic === RESULT ? "throw" : "ok");
	first.message(COMMAND, "{\"id\":\"keep\",\"op\":\"gpio.get\"}");
	assert.equal(device.connection.state, State.BackingOff);
	while (transport.opens === 1)
		time.advance(10);
	transport.last.ready();
	assert.deepEqual(results(transport.last).map(result => result.id), ["keep"]);
});
