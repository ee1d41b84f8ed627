/*
 * The Home Assistant discovery message: golden payloads for outputs, inputs and the
 * simulated sensor, what is left out, and its size for the default and largest configs.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { buildDiscovery, discoveryTopic, haStatusTopic } from "../../modules/app/home-assistant/discovery";
import { MAX_PINS } from "../../modules/app/config/config";
import { SimulatedSensor } from "../../modules/app/simulated-sensor";
import { makeTopics } from "../../modules/app/connection/topics";
import { utf8Length } from "../../modules/app/commands/result";

const topics = makeTopics("devices", "node-1");
const simulated = new SimulatedSensor().describe();
const base = { deviceId: "node-1", topics, firmwareVersion: "1.2.3", outputs: [], inputs: [], values: [], restart: true };

test("ha-discovery: topics follow <haPrefix>/device/<id>/config and <haPrefix>/status", () => {
	assert.equal(discoveryTopic("homeassistant", "node-1"), "homeassistant/device/node-1/config");
	assert.equal(haStatusTopic("site/ha"), "site/ha/status");
	assert.equal(buildDiscovery("ha", base).topic, "ha/device/node-1/config");
});

test("ha-discovery: golden payload for outputs, an input, the simulated sensor and restart", () => {
	const { payload, skipped } = buildDiscovery("homeassistant", { ...base, outputs: ["led", "relay"], inputs: ["button"], values: simulated });
	assert.deepEqual(skipped, []);
	assert.deepEqual(JSON.parse(payload), {
		dev: { ids: ["node-1"], name: "node-1", mdl: "secure-mqtt-node", sw: "1.2.3" },
		o: { name: "secure-mqtt-node", sw: "1.2.3" },
		avty_t: "devices/node-1/status",
		avty_tpl: "{{'online' if value_json.online else 'offline'}}",
		stat_t: "devices/node-1/state",
		cmps: {
			gpio_led: {
				p: "switch", name: "led", uniq_id: "node-1_gpio_led", cmd_t: "devices/node-1/gpio/led/set",
				val_tpl: "{{value_json['gpio']['led']}}", stat_on: "1", stat_off: "0",
			},
			gpio_relay: {
				p: "switch", name: "relay", uniq_id: "node-1_gpio_relay", cmd_t: "devices/node-1/gpio/relay/set",
				val_tpl: "{{value_json['gpio']['relay']}}", stat_on: "1", stat_off: "0",
			},
			gpio_button: {
				p: "binary_sensor", name: "button", uniq_id: "node-1_gpio_button",
				val_tpl: "{{value_json['gpio']['button']}}", pl_on: "1", pl_off: "0",
			},
			temperature: {
				p: "sensor", name: "temperature", uniq_id: "node-1_temperature", stat_t: "devices/node-1/telemetry",
				val_tpl: "{{value_json['values']['temperature']}}", dev_cla: "temperature", unit_of_meas: "°C", stat_cla: "measurement",
			},
			humidity: {
				p: "sensor", name: "humidity", uniq_id: "node-1_humidity", stat_t: "devices/node-1/telemetry",
				val_tpl: "{{value_json['values']['humidity']}}", dev_cla: "humidity", unit_of_meas: "%", stat_cla: "measurement",
			},
			restart: {
				p: "button", name: "restart", uniq_id: "node-1_restart", cmd_t: "devices/node-1/cmd",
				pl_prs: "{\"op\":\"restart\"}", dev_cla: "restart", ent_cat: "config",
			},
		},
	});
});

test("ha-discovery: golden text for the smallest device (no pins, no values, no restart)", () => {
	const { payload } = buildDiscovery("homeassistant", { ...base, restart: false });
	assert.equal(payload, "{\"dev\":{\"ids\":[\"node-1\"],\"name\":\"node-1\",\"mdl\":\"secure-mqtt-node\",\"sw\":\"1.2.3\"},"
		+ "\"o\":{\"name\":\"secure-mqtt-node\",\"sw\":\"1.2.3\"},\"avty_t\":\"devices/node-1/status\","
		+ "\"avty_tpl\":\"{{'online' if value_json.online else 'offline'}}\",\"stat_t\":\"devices/node-1/state\",\"cmps\":{}}");
});

test("ha-discovery: no deprecated object_id, and every component has p, name and a unique_id", () => {
	const { payload } = buildDiscovery("homeassistant", { ...base, outputs: ["led"], inputs: ["door"], values: simulated });
	const components = Object.values(JSON.parse(payload).cmps) as Record<string, string>[];
	assert.equal(components.length, 5);
	const ids = new Set<string>();
	for (const component of components) {
		assert.ok(!("obj_id" in component) && !("object_id" in component), JSON.stringify(component));
		assert.ok(component.p && component.name && component.uniq_id, JSON.stringify(component));
		ids.add(component.uniq_id);
	}
	assert.equal(ids.size, components.length, "unique ids differ");
});

test("ha-discovery: a sensor value without class or unit gets neither; odd or clashing names are left out", () => {
	const values = [
		{ name: "adc", stateClass: "measurement" as const },
		{ name: "Bad Name" },
		{ name: "restart" },
		{ name: "gpio_led" },
		{ name: "adc" },
	];
	const { payload, skipped } = buildDiscovery("homeassistant", { ...base, outputs: ["led"], values });
	const { cmps } = JSON.parse(payload);
	assert.deepEqual(cmps.adc, {
		p: "sensor", name: "adc", uniq_id: "node-1_adc", stat_t: "devices/node-1/telemetry",
		val_tpl: "{{value_json['values']['adc']}}", stat_cla: "measurement",
	});
	assert.equal(cmps.restart.p, "button");
	assert.equal(cmps.gpio_led.p, "switch");
	assert.equal(skipped.length, 4, skipped.join("\n"));
	assert.match(skipped[0], /"Bad Name"/);
});

test("ha-discovery: names that are dict methods in Jinja are indexed, never dotted", () => {
	const { payload } = buildDiscovery("homeassistant", { ...base, outputs: ["items"], values: [{ name: "values" }] });
	const { cmps } = JSON.parse(payload);
	assert.equal(cmps.gpio_items.val_tpl, "{{value_json['gpio']['items']}}");
	assert.equal(cmps.values.val_tpl, "{{value_json['values']['values']}}");
});

test("ha-discovery: size of the default config and of the largest one (measured, split by mqtt-tls on XS)", () => {
	const sim = buildDiscovery("homeassistant", { ...base, deviceId: "sim-node", topics: makeTopics("devices", "sim-node"), outputs: ["led"], values: simulated });
	const names = Array.from({ length: MAX_PINS }, (_, i) => `pin_${String(i).padStart(12, "0")}`);	// 16 characters each
	const id = "x".repeat(64);
	const largest = buildDiscovery("h".repeat(64), {
		...base, deviceId: id, topics: makeTopics("devices", id), firmwareVersion: "1".repeat(32),
		outputs: names.slice(0, MAX_PINS / 2), inputs: names.slice(MAX_PINS / 2), values: simulated,
	});
	const simBytes = utf8Length(sim.payload);
	const largestBytes = utf8Length(largest.payload);
	// Above one TLS write (about 850 bytes) already in the default config: the reason for split writes.
	assert.ok(simBytes > 850 && simBytes < 1_200, `default config: ${simBytes} bytes`);
	assert.ok(largestBytes < 7_000, `largest config: ${largestBytes} bytes`);
});
