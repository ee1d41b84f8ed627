/*
 * The Home Assistant discovery messages (one per entity): golden payloads for outputs,
 * inputs and the simulated sensor, what is left out, and the size of the largest
 * message the config check lets through, against what one publish carries.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { buildDiscovery, componentTopic, deviceDiscoveryTopic, haStatusTopic, type Discovery } from "../../modules/app/home-assistant/discovery";
import { HA_PREFIX_MAX, MAX_PINS, loadConfig } from "../../modules/app/config/config";
import { MAX_MESSAGE, MAX_TOPIC, publishSize } from "../../modules/app/limits";
import { SimulatedSensor } from "../../modules/app/simulated-sensor";
import { makeTopics } from "../../modules/app/connection/topics";
import { utf8Length } from "../../modules/app/commands/result";

const topics = makeTopics("devices", "node-1");
const simulated = new SimulatedSensor().describe();
const base = { deviceId: "node-1", topics, firmwareVersion: "1.2.3", outputs: [], inputs: [], values: [], restart: true };

/** The messages as {topic: parsed payload}. */
function byTopic(discovery: Discovery): Record<string, Record<string, unknown>> {
	return Object.fromEntries(discovery.messages.map(message => [message.topic, JSON.parse(message.payload)]));
}

const SHARED = {
	avty_t: "devices/node-1/status",
	avty_tpl: "{{'online' if value_json.online else 'offline'}}",
	dev: { ids: ["node-1"], name: "node-1", mdl: "secure-mqtt-node", sw: "1.2.3" },
	o: { name: "secure-mqtt-node", sw: "1.2.3" },
};

test("ha-discovery: topics follow <haPrefix>/<component>/<id>/<key>/config, the old <haPrefix>/device/<id>/config and <haPrefix>/status", () => {
	assert.equal(componentTopic("homeassistant", "switch", "node-1", "gpio_led"), "homeassistant/switch/node-1/gpio_led/config");
	assert.equal(deviceDiscoveryTopic("homeassistant", "node-1"), "homeassistant/device/node-1/config");
	assert.equal(haStatusTopic("site/ha"), "site/ha/status");
	assert.deepEqual(buildDiscovery("ha", base).messages.map(message => message.topic), ["ha/button/node-1/restart/config"]);
});

test("ha-discovery: golden payloads for outputs, an input, the simulated sensor and restart", () => {
	const discovery = buildDiscovery("homeassistant", { ...base, outputs: ["led", "relay"], inputs: ["button"], values: simulated });
	assert.deepEqual(discovery.skipped, []);
	assert.deepEqual(byTopic(discovery), {
		"homeassistant/switch/node-1/gpio_led/config": {
			name: "led", uniq_id: "node-1_gpio_led", cmd_t: "devices/node-1/gpio/led/set", stat_t: "devices/node-1/state",
			val_tpl: "{{value_json['gpio']['led']}}", stat_on: "1", stat_off: "0", ...SHARED,
		},
		"homeassistant/switch/node-1/gpio_relay/config": {
			name: "relay", uniq_id: "node-1_gpio_relay", cmd_t: "devices/node-1/gpio/relay/set", stat_t: "devices/node-1/state",
			val_tpl: "{{value_json['gpio']['relay']}}", stat_on: "1", stat_off: "0", ...SHARED,
		},
		"homeassistant/binary_sensor/node-1/gpio_button/config": {
			name: "button", uniq_id: "node-1_gpio_button", stat_t: "devices/node-1/state",
			val_tpl: "{{value_json['gpio']['button']}}", pl_on: "1", pl_off: "0", ...SHARED,
		},
		"homeassistant/sensor/node-1/temperature/config": {
			name: "temperature", uniq_id: "node-1_temperature", stat_t: "devices/node-1/telemetry",
			val_tpl: "{{value_json['values']['temperature']}}", dev_cla: "temperature", unit_of_meas: "°C", stat_cla: "measurement", ...SHARED,
		},
		"homeassistant/sensor/node-1/humidity/config": {
			name: "humidity", uniq_id: "node-1_humidity", stat_t: "devices/node-1/telemetry",
			val_tpl: "{{value_json['values']['humidity']}}", dev_cla: "humidity", unit_of_meas: "%", stat_cla: "measurement", ...SHARED,
		},
		"homeassistant/button/node-1/restart/config": {
			name: "restart", uniq_id: "node-1_restart", cmd_t: "devices/node-1/cmd",
			pl_prs: "{\"op\":\"restart\"}", dev_cla: "restart", ent_cat: "config", ...SHARED,
		},
	});
});

test("ha-discovery: golden text of one message; the smallest device sends none", () => {
	const { messages } = buildDiscovery("homeassistant", { ...base, restart: false, inputs: ["door"] });
	assert.deepEqual(messages, [{
		topic: "homeassistant/binary_sensor/node-1/gpio_door/config",
		payload: "{\"name\":\"door\",\"uniq_id\":\"node-1_gpio_door\",\"stat_t\":\"devices/node-1/state\","
			+ "\"val_tpl\":\"{{value_json['gpio']['door']}}\",\"pl_on\":\"1\",\"pl_off\":\"0\",\"avty_t\":\"devices/node-1/status\","
			+ "\"avty_tpl\":\"{{'online' if value_json.online else 'offline'}}\","
			+ "\"dev\":{\"ids\":[\"node-1\"],\"name\":\"node-1\",\"mdl\":\"secure-mqtt-node\",\"sw\":\"1.2.3\"},"
			+ "\"o\":{\"name\":\"secure-mqtt-node\",\"sw\":\"1.2.3\"}}",
	}]);
	assert.deepEqual(buildDiscovery("homeassistant", { ...base, restart: false }).messages, []);
});

test("ha-discovery: the update entity reads the update topic and installs through the command topic", () => {
	const update = byTopic(buildDiscovery("homeassistant", { ...base, restart: false, update: true }))["homeassistant/update/node-1/update/config"];
	assert.deepEqual(update, {
		name: "firmware", uniq_id: "node-1_update", stat_t: "devices/node-1/update", cmd_t: "devices/node-1/cmd",
		pl_inst: "{\"op\":\"release.install\"}", dev_cla: "firmware", ent_cat: "config", ...SHARED,
	});
});

test("ha-discovery: no deprecated object_id, no platform key, every message has name, a unique_id and the device", () => {
	const { messages } = buildDiscovery("homeassistant", { ...base, outputs: ["led"], inputs: ["door"], values: simulated, update: true });
	assert.equal(messages.length, 6);
	const ids = new Set<string>();
	for (const message of messages) {
		const component = JSON.parse(message.payload);
		assert.ok(!("obj_id" in component) && !("object_id" in component) && !("p" in component), message.payload);
		assert.ok(component.name && component.uniq_id && component.dev.ids[0] === "node-1", message.payload);
		assert.ok(message.topic.endsWith(`/node-1/${component.uniq_id.slice("node-1_".length)}/config`), message.topic);
		ids.add(component.uniq_id);
	}
	assert.equal(ids.size, messages.length, "unique ids differ");
});

test("ha-discovery: a sensor value without class or unit gets neither; odd or clashing names are left out", () => {
	const values = [
		{ name: "adc", stateClass: "measurement" as const },
		{ name: "Bad Name" },
		{ name: "restart" },
		{ name: "gpio_led" },
		{ name: "adc" },
	];
	const discovery = buildDiscovery("homeassistant", { ...base, outputs: ["led"], values });
	const messages = byTopic(discovery);
	assert.deepEqual(messages["homeassistant/sensor/node-1/adc/config"], {
		name: "adc", uniq_id: "node-1_adc", stat_t: "devices/node-1/telemetry",
		val_tpl: "{{value_json['values']['adc']}}", stat_cla: "measurement", ...SHARED,
	});
	assert.ok(messages["homeassistant/button/node-1/restart/config"]);
	assert.ok(messages["homeassistant/switch/node-1/gpio_led/config"]);
	assert.equal(discovery.messages.length, 3);
	assert.equal(discovery.skipped.length, 4, discovery.skipped.join("\n"));
	assert.match(discovery.skipped[0], /"Bad Name"/);
});

test("ha-discovery: names that are dict methods in Jinja are indexed, never dotted", () => {
	const messages = byTopic(buildDiscovery("homeassistant", { ...base, outputs: ["items"], values: [{ name: "values" }] }));
	assert.equal(messages["homeassistant/switch/node-1/gpio_items/config"].val_tpl, "{{value_json['gpio']['items']}}");
	assert.equal(messages["homeassistant/sensor/node-1/values/config"].val_tpl, "{{value_json['values']['values']}}");
});

test("ha-discovery: the largest message the config check lets through fits one publish with room to spare", () => {
	// The largest accepted config: 64-character haPrefix and id, the longest topicPrefix
	// beside that id, MAX_PINS outputs (a switch is the largest pin entity) of 16-character
	// names, a 32-character version, restart and update, and sensor values at the name
	// pattern's 32 characters with the longest class and unit a sensor here describes.
	const id = "x".repeat(64);
	const names = Array.from({ length: MAX_PINS }, (_, i) => `p${String(i).padStart(15, "0")}`);
	let topicPrefix = "devices";
	while (!loadConfig({ mqttHost: "broker", deviceId: id, topicPrefix: topicPrefix + "x" }, { defaultDeviceId: "d", wifiRequired: false }).errors.length)
		topicPrefix += "x";
	const raw = { mqttHost: "broker", deviceId: id, topicPrefix, haDiscovery: "true", haPrefix: "h".repeat(HA_PREFIX_MAX), outputs: names.map((name, i) => `${name}:${i}`).join(",") };
	const { config, errors } = loadConfig(raw, { defaultDeviceId: "d", wifiRequired: false });
	assert.deepEqual(errors, []);
	assert.ok(topicPrefix.length > 100 && topicPrefix.length < MAX_TOPIC, `topicPrefix of ${topicPrefix.length}`);
	const longest = [...simulated, ...[{ name: "adc" }, { name: "voltage", deviceClass: "voltage", unit: "V" }]]
		.map(value => ({ ...value, name: "v".repeat(32) }));
	const largest = buildDiscovery(config.haPrefix, {
		deviceId: config.deviceId, topics: makeTopics(config.topicPrefix, config.deviceId), firmwareVersion: "1".repeat(32),
		outputs: Object.keys(config.outputs), inputs: [], values: longest.slice(0, 1), restart: true, update: true,
	});
	assert.equal(largest.messages.length, MAX_PINS + 3);
	const sizes = largest.messages.map(message => publishSize(message.topic, message.payload));
	const worst = Math.max(...sizes);
	assert.ok(worst < MAX_MESSAGE / 4, `largest discovery message: ${worst} bytes (one publish carries ${MAX_MESSAGE})`);
	console.log(`# largest discovery message of the largest accepted config: ${worst} bytes of ${MAX_MESSAGE}; topicPrefix ${topicPrefix.length} characters`);

	const sim = buildDiscovery("homeassistant", { ...base, deviceId: "sim-node", topics: makeTopics("devices", "sim-node"), outputs: ["led"], values: simulated });
	const simSizes = sim.messages.map(message => utf8Length(message.payload));
	assert.ok(Math.max(...simSizes) < 850, `default config: ${simSizes.join(", ")} bytes, each within one TLS write`);
});
