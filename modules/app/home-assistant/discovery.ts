/*
 * buildDiscovery: the one Home Assistant device-based discovery message for this device.
 *
 * - Topic `<haPrefix>/device/<deviceId>/config` (the device id is already limited to
 *   A-Z a-z 0-9 _ -, the characters Home Assistant allows there); published retained.
 * - Payload: `dev` (identifiers [deviceId], name, model, sw = running firmware), `o`
 *   (origin: name, sw), shared availability from the status topic (its `online`
 *   field through a template) and the shared state topic, then `cmps`:
 *   - `gpio_<name>`: a `switch` per output (command topic `.../gpio/<name>/set`, ON/OFF,
 *     state "1"/"0" from the retained state) and a `binary_sensor` per input;
 *   - `<value>`: a `sensor` per value the sensor describes, from the telemetry topic's
 *     `values`, with device_class, unit_of_measurement and state_class where known;
 *   - `restart`: a `button` that sends `{"op":"restart"}` to the command topic, where
 *     the platform can restart (`restart`).
 *   Every component has `p`, `name` and `unique_id` `<deviceId>_<key>`; no `object_id`
 *   (deprecated). Keys are Home Assistant's documented abbreviations, to stay small.
 * - Templates index with ['name'], never `.name`: Jinja's dot prefers attributes, so
 *   `value_json.values` would be the dict's values() method, and a pin named `items`
 *   or `keys` would be a method too.
 * - A sensor value whose name is not a plain identifier (SENSOR_NAME), or that would
 *   collide with another component's key, is left out and named in `skipped`.
 * Limits: the message grows with the pins, the id and the topic prefix (about 1.1 KB
 * for one output and the simulated sensor, 7.3 KB for 16 outputs of 16 characters
 * and a 64-character id): larger than one TLS write on the simulator, so the XS
 * transport splits it (mqtt-tls); over limits.ts MAX_MESSAGE the Outbox does not send
 * it (reported, the device stays online).
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
}

export interface Discovery {
	topic: string;
	payload: string;
	/** Sensor values left out, with why. */
	skipped: string[];
}

type Component = Record<string, string>;

export function discoveryTopic(haPrefix: string, deviceId: string): string {
	return `${haPrefix}/device/${deviceId}/config`;
}

/** Where Home Assistant announces itself ("online" when it starts). */
export function haStatusTopic(haPrefix: string): string {
	return `${haPrefix}/status`;
}

export function buildDiscovery(haPrefix: string, input: DiscoveryInput): Discovery {
	const { deviceId, topics, firmwareVersion } = input;
	const components: Record<string, Component> = {};
	const skipped: string[] = [];
	const add = (key: string, platform: string, name: string, fields: Component) => {
		components[key] = { p: platform, name, uniq_id: `${deviceId}_${key}`, ...fields };
	};
	for (const name of input.outputs)
		add(`gpio_${name}`, "switch", name, { cmd_t: outputSetTopic(topics, name), val_tpl: pinTemplate(name), stat_on: "1", stat_off: "0" });
	for (const name of input.inputs)
		add(`gpio_${name}`, "binary_sensor", name, { val_tpl: pinTemplate(name), pl_on: "1", pl_off: "0" });
	for (const value of input.values) {
		const { name } = value;
		if (!SENSOR_NAME().test(name) || name === "restart" || name.startsWith("gpio_") || Object.hasOwn(components, name)) {
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
	const payload = JSON.stringify({
		dev: { ids: [deviceId], name: deviceId, mdl: ORIGIN, sw: firmwareVersion },
		o: { name: ORIGIN, sw: firmwareVersion },
		avty_t: topics.status,
		avty_tpl: ONLINE,
		stat_t: topics.state,
		cmps: components,
	});
	return { topic: discoveryTopic(haPrefix, deviceId), payload, skipped };
}

function pinTemplate(name: string): string {
	return `{{value_json['gpio']['${name}']}}`;
}
