/*
 * buildDiscovery: the Home Assistant discovery messages of this device, one per entity.
 *
 * - One retained message per component on `<haPrefix>/<component>/<deviceId>/<key>/config`
 *   (Home Assistant's single-component discovery, with the device id as node_id: the
 *   id is already limited to A-Z a-z 0-9 _ -, the characters allowed there). Home
 *   Assistant keys an entity by (component, "<node_id> <object_id>"), the same key the
 *   earlier one device-based message (`<haPrefix>/device/<deviceId>/config`, component
 *   keys in `cmps`) gave it, so the entities stay the same ones (handover: see
 *   home-assistant.ts).
 * - Each message stands alone: its component's fields, then `dev` (identifiers
 *   [deviceId], name, model, sw = running firmware), `o` (origin: name, sw) and the
 *   availability from the status topic (its `online` field through a template):
 *   - `gpio_<name>`: a `switch` per output (command topic `.../gpio/<name>/set`, ON/OFF,
 *     state "1"/"0" from the retained state topic) and a `binary_sensor` per input;
 *   - `<value>`: a `sensor` per value the sensor describes, from the telemetry topic's
 *     `values`, with device_class, unit_of_measurement and state_class where known;
 *   - `restart`: a `button` that sends `{"op":"restart"}` to the command topic, where
 *     the platform can restart (`restart`);
 *   - `update`: an `update` (device class firmware) where the device follows fleet
 *     releases (`update`): its state is the retained `update` topic (installed and
 *     latest version, progress: FleetUpdates.state()), Install sends
 *     `{"op":"release.install"}` to the command topic.
 *   Every component has `name` and `unique_id` `<deviceId>_<key>`; no `object_id`
 *   (deprecated). Keys are Home Assistant's documented abbreviations, to stay small.
 * - Templates index with ['name'], never `.name`: Jinja's dot prefers attributes, so
 *   `value_json.values` would be the dict's values() method, and a pin named `items`
 *   or `keys` would be a method too.
 * - A sensor value whose name is not a plain identifier (SENSOR_NAME), or that would
 *   collide with another component's key, is left out and named in `skipped`.
 * - Size: one message no longer grows with the number of pins; the largest the config
 *   check lets through (64-character haPrefix and id, the longest topicPrefix beside
 *   them, 16-character pin names, 32-character version) is measured by
 *   test/unit/ha-discovery.test.ts against limits.ts MAX_MESSAGE (about 1.2 KB against
 *   7 KB). Over MAX_WRITE the XS transport writes it in pieces (mqtt-tls).
 * Limits: a device with 16 pins, two sensor values, restart and update sends 20
 * messages per session (about 600 to 800 bytes each for the default prefixes).
 */

import type { SensorValue } from "../ports";
import { outputSetTopic, type Topics } from "../connection/topics";

export const ORIGIN = "secure-mqtt-node";	// the firmware's name, also the device model
const SENSOR_NAME = () => /^[a-z][a-z0-9_]{0,31}$/;	// made on each use: a preloaded RegExp crashes XS (README, notes on changing the firmware)
const ONLINE = "{{'online' if value_json.online else 'offline'}}";

export interface DiscoveryInput {
	deviceId: string;
	topics: Topics;
	firmwareVersion: string;
	outputs: string[];
	inputs: string[];
	/** What the sensor reports (Sensor.describe()). */
	values: SensorValue[];
	/** The restart command is available (a System port exists). */
	restart: boolean;
	/** The device follows fleet releases: offer the update entity. */
	update?: boolean;
}

export interface DiscoveryMessage {
	topic: string;
	payload: string;
}

export interface Discovery {
	/** One per component, in a stable order. */
	messages: DiscoveryMessage[];
	/** Sensor values left out, with why. */
	skipped: string[];
}

type Component = Record<string, string>;

/** Where one component's discovery message goes. */
export function componentTopic(haPrefix: string, component: string, deviceId: string, key: string): string {
	return `${haPrefix}/${component}/${deviceId}/${key}/config`;
}

/** The one device-based message earlier firmware published (home-assistant.ts clears it). */
export function deviceDiscoveryTopic(haPrefix: string, deviceId: string): string {
	return `${haPrefix}/device/${deviceId}/config`;
}

/** Where Home Assistant announces itself ("online" when it starts). */
export function haStatusTopic(haPrefix: string): string {
	return `${haPrefix}/status`;
}

export function buildDiscovery(haPrefix: string, input: DiscoveryInput): Discovery {
	const { deviceId, topics, firmwareVersion } = input;
	const components: Record<string, [string, Component]> = {};
	const skipped: string[] = [];
	const add = (key: string, platform: string, name: string, fields: Component) => {
		components[key] = [platform, { name, uniq_id: `${deviceId}_${key}`, ...fields }];
	};
	const pinState = (name: string) => ({ stat_t: topics.state, val_tpl: `{{value_json['gpio']['${name}']}}` });
	for (const name of input.outputs)
		add(`gpio_${name}`, "switch", name, { cmd_t: outputSetTopic(topics, name), ...pinState(name), stat_on: "1", stat_off: "0" });
	for (const name of input.inputs)
		add(`gpio_${name}`, "binary_sensor", name, { ...pinState(name), pl_on: "1", pl_off: "0" });
	for (const value of input.values) {
		const { name } = value;
		if (!SENSOR_NAME().test(name) || name === "restart" || name === "update" || name.startsWith("gpio_") || Object.hasOwn(components, name)) {
			skipped.push(`sensor value ${JSON.stringify(name.slice(0, 40))}: not a plain name or already used`);
			continue;
		}
		const fields: Component = { stat_t: topics.telemetry, val_tpl: `{{value_json['values']['${name}']}}` };
		if (value.deviceClass)
			fields.dev_cla = value.deviceClass;
		if (value.unit)
			fields.unit_of_meas = value.unit;
		if (value.stateClass)
			fields.stat_cla = value.stateClass;
		add(name, "sensor", name, fields);
	}
	if (input.restart)
		add("restart", "button", "restart", { cmd_t: topics.command, pl_prs: JSON.stringify({ op: "restart" }), dev_cla: "restart", ent_cat: "config" });
	if (input.update)
		add("update", "update", "firmware", { stat_t: topics.update, cmd_t: topics.command, pl_inst: JSON.stringify({ op: "release.install" }), dev_cla: "firmware", ent_cat: "config" });
	const device = { ids: [deviceId], name: deviceId, mdl: ORIGIN, sw: firmwareVersion };
	const origin = { name: ORIGIN, sw: firmwareVersion };
	const messages = Object.keys(components).map(key => {
		const [platform, fields] = components[key];
		const payload = JSON.stringify({ ...fields, avty_t: topics.status, avty_tpl: ONLINE, dev: device, o: origin });
		return { topic: componentTopic(haPrefix, platform, deviceId, key), payload };
	});
	return { messages, skipped };
}

