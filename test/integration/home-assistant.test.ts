/*
 * Home Assistant discovery against a real mosquitto over TLS, with the test acting as
 * Home Assistant does: it reads the retained discovery messages (one per entity) as a
 * late subscriber, checks their topics by Home Assistant's own rule, switches the
 * `led` output by publishing the switch's payload_on to its command_topic, and reads
 * states, availability, an input and a sensor through their topics and templates;
 * "online" on homeassistant/status makes the device publish again.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { Gate } from "../../modules/app/commands/channel";
import { Fixture } from "../../tools/harness/fixture";
import { renderTemplate } from "../../tools/harness/ha-template";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";

type Component = Record<string, string> & { dev: { ids: string[]; name: string; sw: string }; o: { name: string; sw?: string } };
interface Entity { platform: string; key: string; entry: Component }

const ID = "it-ha";
const DISCOVERY = `homeassistant/+/${ID}/+/config`;
const ENTITIES = 6;	// led, door, temperature, humidity, restart, update
const LED = `homeassistant/switch/${ID}/gpio_led/config`;
// Home Assistant's own rule for discovery topics (homeassistant/components/mqtt/discovery.py).
const TOPIC_MATCHER = /^(\w+)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/;

describe("home assistant discovery", () => {
	const fixture = new Fixture();
	let broker: Broker;
	let node: NodeDevice;
	let ha: Watcher;
	let entities: Entity[];

	before(async () => {
		broker = await fixture.broker();
		ha = await fixture.watcher({ port: broker.port, topics: ["homeassistant/#", `devices/${ID}/#`] });
		node = fixture.device(broker.port, { deviceId: ID, outputs: "led:2", inputs: "door:5", haDiscovery: "true" }, { random: () => 0 });
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
		const late = await fixture.watcher({ port: broker.port, topics: [DISCOVERY] });
		await waitFor("every entity's discovery", () => late.received.length >= ENTITIES);
		entities = late.received.map(message => {
			assert.equal(message.retain, true, `${message.topic} is retained`);
			const [, platform, node, key] = TOPIC_MATCHER.exec(message.topic.slice("homeassistant/".length)) ?? [];
			assert.equal(node, ID, message.topic);
			return { platform, key, entry: parse(message.payload) as Component };
		});
	});
	after(() => fixture.cleanup());

	const component = (platform: string, name: string) => {
		const found = entities.find(entity => entity.platform === platform && entity.entry.name === name);
		assert.ok(found, `a ${platform} named ${name}`);
		return found.entry;
	};
	/** What Home Assistant would show for `entry`: its value template over the newest message on its state topic. */
	const rendered = (entry: Component) => {
		const latest = ha.on(entry.stat_t).at(-1);
		return latest && renderTemplate(entry.val_tpl, latest.payload);
	};

	it("is one message per entity on topics Home Assistant accepts, each naming the device", () => {
		assert.equal(entities.length, ENTITIES);
		assert.deepEqual(entities.map(entity => `${entity.platform}/${entity.key}`).sort(),
			["binary_sensor/gpio_door", "button/restart", "sensor/humidity", "sensor/temperature", "switch/gpio_led", "update/update"]);
		for (const { platform, key, entry } of entities) {
			assert.ok(["switch", "binary_sensor", "sensor", "button", "update"].includes(platform), JSON.stringify(entry));
			assert.equal(entry.uniq_id, `${ID}_${key}`, JSON.stringify(entry));
			assert.ok(!("obj_id" in entry) && !("object_id" in entry) && !("p" in entry));
			assert.deepEqual(entry.dev.ids, [ID]);
			assert.equal(entry.dev.sw, node.device.firmwareVersion);
			assert.ok(entry.o.name);
		}
	});

	it("offers a firmware update entity whose retained state names the installed and latest version", async () => {
		const entry = component("update", "firmware");
		const late = await fixture.watcher({ port: broker.port, topics: [entry.stat_t] });
		const state = await late.waitFor(entry.stat_t);
		assert.equal(state.retain, true, "retained: Home Assistant sees it when it starts later");
		assert.deepEqual(parse(state.payload), { installed_version: node.device.firmwareVersion, latest_version: node.device.firmwareVersion, in_progress: false, update_percentage: null });
		assert.equal(entry.cmd_t, `devices/${ID}/cmd`);
		assert.deepEqual(JSON.parse(entry.pl_inst), { op: "release.install" });
	});

	it("reports the device available through the status topic and its template", () => {
		for (const { entry } of entities) {
			const status = ha.on(entry.avty_t).at(-1);
			assert.ok(status);
			assert.equal(renderTemplate(entry.avty_tpl, status.payload), "online");
		}
	});

	it("switches led with payload_on/payload_off on the command topic and sees it in the state", async () => {
		const led = component("switch", "led");
		const [on, off] = [led.pl_on ?? "ON", led.pl_off ?? "OFF"];
		const [stateOn, stateOff] = [led.stat_on ?? on, led.stat_off ?? off];
		assert.equal(rendered(led), stateOff);
		await ha.publish(led.cmd_t, on);
		await waitFor("the switch to show on", () => rendered(led) === stateOn);
		assert.equal(node.pins.level("led"), 1);
		await ha.publish(led.cmd_t, off);
		await waitFor("the switch to show off", () => rendered(led) === stateOff);
		assert.equal(node.pins.level("led"), 0);
	});

	it("shows an input as a binary sensor", async () => {
		const door = component("binary_sensor", "door");
		assert.equal(rendered(door), door.pl_off ?? "OFF");
		node.pins.setInput("door", 1);
		await waitFor("the binary sensor to show on", () => rendered(door) === (door.pl_on ?? "ON"));
	});

	it("shows the simulated sensor's readings with class and unit", async () => {
		const temperature = component("sensor", "temperature");
		assert.equal(temperature.dev_cla, "temperature");
		assert.equal(temperature.unit_of_meas, "°C");
		await waitFor("a reading", () => rendered(temperature));
		assert.ok(Number.isFinite(Number(rendered(temperature))), rendered(temperature));
		assert.ok(Number.isFinite(Number(rendered(component("sensor", "humidity")))));
	});

	it("publishes the discovery again when Home Assistant announces itself", async () => {
		const before = ha.on(LED).length;
		await ha.publish("homeassistant/status", "online");
		await waitFor("a second discovery message", () => ha.on(LED).length === before + 1, 10_000);
		assert.deepEqual(parse(ha.on(LED).at(-1)!.payload), component("switch", "led"));
	});

	it("restarts through the button (last: the device stops)", async () => {
		const restart = component("button", "restart");
		await ha.publish(restart.cmd_t, restart.pl_prs);
		const answer = await ha.waitFor(`devices/${ID}/cmd/result`, result => (result as { restarting?: boolean }).restarting === true);
		assert.deepEqual(parse(answer.payload), { id: null, ok: true, restarting: true, delay: 500 });
	});
});
