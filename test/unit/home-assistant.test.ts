/*
 * Home Assistant in the Device: discovery on every session (one retained message per
 * entity, after the birth), re-published after a random delay when Home Assistant
 * announces itself, the handover from the one device-based message of earlier
 * firmware, and plain ON/OFF commands on an output's set topic through the command path.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MIGRATE, REPUBLISH_MIN, REPUBLISH_SPREAD } from "../../modules/app/home-assistant/home-assistant";
import { RESULT, STATE, assertError, ready, setup } from "./support/command-device";
import { MAX_MESSAGE, publishSize } from "../../modules/app/limits";
import { TOO_LARGE } from "../../modules/app/ports";

const CONFIG = "homeassistant/switch/node-1/gpio_led/config";	// one of the entities
const LEGACY = "homeassistant/device/node-1/config";	// earlier firmware's one message
const ENTITIES = ["switch/node-1/gpio_led", "switch/node-1/gpio_relay", "binary_sensor/node-1/gpio_button", "button/node-1/restart", "update/node-1/update"]
	.map(key => `homeassistant/${key}/config`);	// the fake sensor describes nothing
const HA_STATUS = "homeassistant/status";
const STATUS = "devices/node-1/status";
const SET = (name: string) => `devices/node-1/gpio/${name}/set`;
const DELAY = REPUBLISH_MIN + 0.5 * REPUBLISH_SPREAD;	// the fakes' random() is 0.5
const ON = { raw: { haDiscovery: "true" } };

test("ha: off by default: no discovery and no subscription to Home Assistant's status", () => {
	const { transport } = ready();
	assert.equal(transport.last.published.filter(message => message.topic.startsWith("homeassistant/")).length, 0);
	assert.ok(!transport.last.subscriptions.includes(HA_STATUS));
});

test("ha: discovery is published retained after the birth, one message per entity", () => {
	const { transport } = ready(ON);
	const session = transport.last;
	assert.ok(session.subscriptions.includes(HA_STATUS) && session.subscriptions.includes(LEGACY));
	const order = session.published.map(message => message.topic);
	const discovery = session.published.filter(message => message.topic.startsWith("homeassistant/"));
	assert.deepEqual(discovery.map(message => message.topic), ENTITIES);
	assert.ok(order.indexOf(ENTITIES[0]) > order.indexOf(STATUS), order.join(","));
	for (const message of discovery) {
		assert.equal(message.retain, true);
		assert.deepEqual(JSON.parse(message.payload).dev.ids, ["node-1"]);
	}
	assert.ok(!order.includes(LEGACY), "the old topic is left alone while nothing is there");
});

test("ha: a new session publishes discovery again", () => {
	const s = ready(ON);
	s.transport.last.closeByPeer("gone");
	s.time.advance(2_000);	// the first backoff is at most backoffMin
	assert.equal(s.transport.sessions.length, 2);
	s.transport.last.ready();
	assert.equal(s.transport.last.on(CONFIG).length, 1);
});

test("ha: \"online\" on homeassistant/status re-publishes once, after the random delay", () => {
	const { transport, time, device } = ready(ON);
	const session = transport.last;
	session.message(HA_STATUS, "online");
	session.message(HA_STATUS, "online");	// while one is pending: nothing more
	time.advance(DELAY - 1);
	assert.equal(session.on(CONFIG).length, 1, "not before the delay");
	time.advance(1);
	assert.equal(session.on(CONFIG).length, 2);
	time.advance(10 * REPUBLISH_SPREAD);
	assert.equal(session.on(CONFIG).length, 2, "once per announcement");
	assert.equal(device.homeAssistant!.published, 2);
});

test("ha: anything but \"online\" on homeassistant/status is ignored", () => {
	const { transport, time } = ready(ON);
	for (const payload of ["offline", "", "ONLINE", "{\"online\":true}"])
		transport.last.message(HA_STATUS, payload);
	time.advance(REPUBLISH_MIN + REPUBLISH_SPREAD);
	assert.equal(transport.last.on(CONFIG).length, 1);
});

test("ha: a pending re-publication dies with its session", () => {
	const { transport, time } = ready(ON);
	const session = transport.last;
	session.message(HA_STATUS, "online");
	session.closeByPeer("gone");
	time.advance(DELAY);
	assert.equal(session.on(CONFIG).length, 1);
});

test("ha: a full socket delays the discovery message, it is not lost", () => {
	const s = setup(ON);
	s.device.start();
	let full = true;
	const session = s.transport.last;
	session.onPublish = topic => topic === CONFIG && full ? "full" : "ok";
	session.ready();
	assert.equal(session.on(CONFIG).length, 0);
	full = false;
	s.time.advance(100);
	assert.equal(session.on(CONFIG).length, 1);
});

test("plain: ON, OFF, 1 and 0 on an output's set topic run gpio.set and publish the state", () => {
	const { transport, pins, state } = ready();
	const session = transport.last;
	const steps: [string, 0 | 1][] = [["ON", 1], ["OFF", 0], ["1", 1], ["0", 0]];
	for (const [payload, level] of steps) {
		session.message(SET("led"), payload);
		assert.equal(pins!.levels.get("led"), level, payload);
		assert.deepEqual(JSON.parse(session.on(RESULT).at(-1)!), { id: null, ok: true, pin: "led", value: level });
		assert.equal(state().gpio.led, level);
	}
	assert.ok(session.published.filter(message => message.topic === STATE).every(message => message.retain));
});

test("plain: any other payload is E_RANGE and changes nothing", () => {
	const { transport, pins } = ready();
	for (const payload of ["on", "TRUE", "2", " ON", "{\"value\":1}", "x".repeat(5000)]) {
		transport.last.message(SET("led"), payload);
		assertError(JSON.parse(transport.last.on(RESULT).at(-1)!), null, "E_RANGE", "ON, OFF, 1 or 0");
	}
	assert.deepEqual(pins!.writes, []);
	transport.last.message(SET("led"), "");	// an empty payload (a deletion) is not answered
	assert.equal(transport.last.on(RESULT).length, 6);
});

test("plain: a message the transport skipped as too large is E_TOO_LARGE, as on cmd", () => {
	const { transport, pins } = ready();
	transport.last.message(SET("led"), TOO_LARGE);
	assertError(JSON.parse(transport.last.on(RESULT).at(-1)!), null, "E_TOO_LARGE", "too large");
	assert.deepEqual(pins!.writes, []);
});

test("plain: inputs and unknown names are E_PIN, as with gpio.set", () => {
	const { transport, pins } = ready();
	transport.last.message(SET("button"), "ON");
	assertError(JSON.parse(transport.last.on(RESULT).at(-1)!), null, "E_PIN", "input");
	transport.last.message(SET("door"), "ON");
	assertError(JSON.parse(transport.last.on(RESULT).at(-1)!), null, "E_PIN", "door");
	assert.deepEqual(pins!.writes, []);
});

test("plain: a retained command is refused and deleted at the broker", () => {
	const { transport, pins } = ready();
	transport.last.message(SET("led"), "ON", true);
	assertError(JSON.parse(transport.last.on(RESULT).at(-1)!), null, "E_RETAINED");
	assert.deepEqual(pins!.writes, []);
	assert.deepEqual(transport.last.published.filter(message => message.topic === SET("led")), [{ topic: SET("led"), payload: "", retain: true }]);
});

test("plain: before the settle marker is back, a command is taken as retained", () => {
	const { device, transport, pins } = setup();
	device.start();
	transport.last.ready();
	transport.last.message(SET("led"), "ON");	// as the XS client delivers a retained one: no flag
	assertError(JSON.parse(transport.last.on(RESULT).at(-1)!), null, "E_RETAINED");
	assert.deepEqual(pins!.writes, []);
});

test("plain: topics that only look like set topics are ignored", () => {
	const { transport } = ready();
	for (const topic of ["devices/node-1/gpio/led", "devices/node-1/gpio/a/b/set", "devices/node-1/gpio//set", "devices/node-2/gpio/led/set"])
		transport.last.message(topic, "ON");
	assert.equal(transport.last.on(RESULT).length, 0);
});

test("ha: the largest config the check accepts gets every entity discovered, with no reconnect and nothing unsent", () => {
	// 16 outputs of 16 characters and a 64-character id: one device-based message was
	// 7,665 bytes here and the Outbox dropped it (unsent); one per entity fits.
	const names = Array.from({ length: 16 }, (_, i) => `output_${i}_`.padEnd(16, "x"));
	const deviceId = "d".repeat(64);
	const topicPrefix = "fleet/" + "p".repeat(40);
	const { device, transport, time, log } = setup({ raw: { haDiscovery: "true", deviceId, topicPrefix, outputs: names.map((name, i) => `${name}:${i + 1}`).join(","), inputs: "" } });
	// As the transports do (mqtt-tls, node/transport): a message over MAX_MESSAGE throws.
	const refuseOversized = () => { transport.last.onPublish = (topic, payload) => publishSize(topic, payload) > MAX_MESSAGE ? "throw" : "ok"; };
	device.start();
	refuseOversized();
	transport.last.ready();
	for (let second = 0; second < 10; second++) {
		time.advance(1_000);
		if (transport.last.closed) {	// a reconnect: give the new session the same transport rules
			refuseOversized();
			transport.last.ready();
		}
	}
	assert.equal(transport.opens, 1, "one session, no reconnect");
	const prefix = `${topicPrefix}/${deviceId}`;
	const readings = transport.last.published.filter(message => message.topic === `${prefix}/telemetry`);
	assert.ok(readings.length >= 9, `readings published: ${readings.length}`);
	for (const name of names)
		assert.equal(transport.last.on(`homeassistant/switch/${deviceId}/gpio_${name}/config`).length, 1, name);
	assert.equal(log.lines.filter(line => line.includes("not sent")).length, 0, log.lines.join("\n"));
	transport.last.message(`${prefix}/sync`, transport.last.on(`${prefix}/sync`).find(payload => payload.startsWith("cmd:"))!);
	transport.last.message(`${prefix}/cmd`, JSON.stringify({ id: "s", op: "status" }));
	const status = JSON.parse(transport.last.on(`${prefix}/cmd/result`).at(-1)!);
	assert.equal(status.unsent, null, JSON.stringify(status));
	device.stop();
});

test("ha: the old device-based message is handed over: MIGRATE, the entities again, then deleted", () => {
	for (const old of ["{\"dev\":{\"ids\":[\"node-1\"]},\"cmps\":{}}", "\uFFFE"]) {	// read, or too large to be read
		const { transport } = ready(ON);
		const session = transport.last;
		const from = session.published.length;
		session.message(LEGACY, old);
		const after = session.published.slice(from);
		assert.deepEqual(after.map(message => [message.topic, message.topic === LEGACY ? message.payload : "entity", message.retain]),
			[[LEGACY, MIGRATE, true], ...ENTITIES.map(topic => [topic, "entity", true]), [LEGACY, "", true]]);
		session.message(LEGACY, MIGRATE);	// the device's own echoes
		session.message(LEGACY, "");
		assert.equal(session.published.length, from + ENTITIES.length + 2, "nothing more");
	}
});

test("ha: MIGRATE left on the old topic (a handover cut short) is finished in the next session", () => {
	const { transport } = ready(ON);
	const session = transport.last;
	const from = session.published.length;
	session.message(LEGACY, MIGRATE);	// retained from a session that ended half-way: not this one's echo
	const after = session.published.slice(from);
	assert.deepEqual(after.map(message => message.topic), [LEGACY, ...ENTITIES, LEGACY]);
	assert.equal(after.at(-1)!.payload, "");
});
