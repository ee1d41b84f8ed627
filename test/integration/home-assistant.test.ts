/*
 * Home Assistant discovery against a real mosquitto over TLS, with the test acting as
 * Home Assistant does: it reads the retained device discovery message, switches the
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

type Component = Record<string, string>;
interface DeviceDiscovery {
	dev: { ids: string[]; name: string; sw: string };
	o: { name: string; sw?: string };
	avty_t: string;
	avty_tpl: string;
	stat_t: string;
	cmps: Record<string, Component>;
}

const ID = "it-ha";
const CONFIG = `homeassistant/device/${ID}/config`;
// Home Assistant's own rule for discovery topics (homeassistant/components/mqtt/discovery.py).
const TOPIC_MATCHER = /^(\w+)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/;

describe("home assistant discovery", () => {
	const fixture = new Fixture();
	let broker: Broker;
	let node: NodeDevice;
	let ha: Watcher;
	let discovery: DeviceDiscovery;

	before(async () => {
		broker = await fixture.broker();
		ha = await fixture.watcher({ port: broker.port, topics: ["homeassistant/#", `devices/${ID}/#`] });
		node = fixture.device(broker.port, { deviceId: ID, outputs: "led:2", inputs: "door:5", haDiscovery: "true" }, { random: () => 0 });
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
		const late = await fixture.watcher({ port: broker.port, topics: [CONFIG] });
		const message = await late.waitFor(CONFIG);
		assert.equal(message.retain, true, "discovery is retained");
		discovery = parse(message.payload) as DeviceDiscovery;
	});
	after(() => fixture.cleanup());

	const component = (platform: string, name: string) => {
		const found = Object.values(discovery.cmps).find(entry => entry.p === platform && entry.name === name);
		assert.ok(found, `a ${platform} named ${name}`);
		return found;
	};
	/** What Home Assistant would show for `entry`: its value template over the newest message on its state topic. */
	const rendered = (entry: Component) => {
		const latest = ha.on(entry.stat_t ?? discovery.stat_t).at(-1);
		return latest && renderTemplate(entry.val_tpl, latest.payload);
	};

	it("is a device-based message Home Assistant accepts", () => {
		const [, kind, , objectId] = TOPIC_MATCHER.exec(CONFIG.slice("homeassistant/".length)) ?? [];
		assert.equal(kind, "device");
		assert.equal(objectId, ID);
		assert.deepEqual(discovery.dev.ids, [ID]);
		assert.equal(discovery.dev.sw, node.device.firmwareVersion);
		assert.ok(discovery.o.name);
		for (const entry of Object.values(discovery.cmps)) {
			assert.ok(["switch", "binary_sensor", "sensor", "button"].includes(entry.p), JSON.stringify(entry));
			assert.ok(entry.uniq_id?.startsWith(`${ID}_`), JSON.stringify(entry));
			assert.ok(!("obj_id" in entry) && !("object_id" in entry));
		}
	});

	it("reports the device available through the status topic and its template", () => {
		const status = ha.on(discovery.avty_t).at(-1);
		assert.ok(status);
		assert.equal(renderTemplate(discovery.avty_tpl, status.payload), "online");
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
		const before = ha.on(CONFIG).length;
		await ha.publish("homeassistant/status", "online");
		await waitFor("a second discovery message", () => ha.on(CONFIG).length === before + 1, 10_000);
		assert.deepEqual(parse(ha.on(CONFIG).at(-1)!.payload), discovery);
	});

	it("restarts through the button (last: the device stops)", async () => {
		const restart = component("button", "restart");
		await ha.publish(restart.cmd_t, restart.pl_prs);
		const answer = await ha.waitFor(`devices/${ID}/cmd/result`, result => (result as { restarting?: boolean }).restarting === true);
		assert.deepEqual(parse(answer.payload), { id: null, ok: true, restarting: true, delay: 500 });
	});
});
