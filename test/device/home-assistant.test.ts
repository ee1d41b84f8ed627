/*
 * Home Assistant discovery in the Linux simulator, in the config issue 18 found stuck
 * (16 outputs with 16-character names, a 64-character id: one device-based message of
 * 7,665 bytes, over what one publish carries): one retained message per entity arrives,
 * each well under the limit; the device-based message an earlier firmware left retained
 * (here a 7 KB one, too large for the device to read) is handed over as Home Assistant
 * documents it (MIGRATE, the entities, then deleted); the `led` switch works through
 * its command topic; "online" on homeassistant/status brings the messages again.
 * Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { renderTemplate } from "../../tools/harness/ha-template";
import { delay, waitFor } from "../../tools/harness/wait";
import { parse, type Received, type Watcher } from "../../tools/harness/watcher";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-ha-".padEnd(64, "x");
const NAME = (n: number) => `output_number_${String(n).padStart(2, "0")}`;	// 16 characters
const OUTPUTS = ["led:2", ...Array.from({ length: 15 }, (_, i) => `${NAME(i)}:${i + 3}`)].join(",");
const LEGACY = `homeassistant/device/${ID}/config`;
const LED = `homeassistant/switch/${ID}/gpio_led/config`;
const MIGRATE = JSON.stringify({ migrate_discovery: true });
const MAX_MESSAGE = 7_168;	// limits.ts: what one publish carries

describe("simulator: home assistant discovery", () => {
	let fixture: DeviceFixture;
	let watcher: Watcher;
	let entities: Received[];
	let port = 0;
	const discovery = () => watcher.received.filter(message => message.topic.startsWith("homeassistant/") && message.topic.includes(`/${ID}/`) && message.topic !== LEGACY);

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		port = broker.port;
		const library = await fixture.build(broker.port, ID, { outputs: OUTPUTS, inputs: "", haDiscovery: "true" });
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`, "homeassistant/#"] });
		// What an earlier firmware left: one device-based message, retained.
		await watcher.publish(LEGACY, JSON.stringify({ dev: { ids: [ID] }, o: { name: "secure-mqtt-node" }, cmps: { gpio_led: { p: "switch" } }, pad: "x".repeat(7_000) }), true);
		fixture.simulate(library);
		await waitFor("the old message deleted", () => watcher.on(LEGACY).some(message => message.payload === ""), 60_000);
		await delay(500);
		const late = await fixture.watcher({ port: broker.port, topics: [`homeassistant/+/${ID}/+/config`] });
		await waitFor("every entity, retained", () => late.received.length >= 19, 15_000);	// 16 switches, 2 sensors, restart (and update)
		await delay(1_000);
		entities = [...late.received];	// a copy: the late watcher goes on receiving
		await late.close();
	});
	after(() => fixture?.cleanup());

	it("publishes one retained message per entity, each far below one publish's limit", { skip: sdkSkip }, () => {
		assert.ok(entities.every(message => message.retain));
		const kinds = entities.map(message => message.topic.split("/")[1]);
		assert.equal(kinds.filter(kind => kind === "switch").length, 16);
		const keys = entities.map(message => message.topic.split("/")[3]).filter(key => !key.startsWith("gpio_"));
		assert.deepEqual(keys.filter(key => key !== "update"), ["temperature", "humidity", "restart"]);
		const largest = Math.max(...entities.map(message => Buffer.byteLength(message.topic) + Buffer.byteLength(message.payload) + 5));
		assert.ok(largest < MAX_MESSAGE / 4, `largest: ${largest} bytes`);
		if (process.env.SMN_TEST_LOGS === "1")
			console.log(`[discovery] ${entities.length} messages, the largest ${largest} bytes`);
	});

	it("hands the old device-based message over: MIGRATE, the entities again, then deleted", { skip: sdkSkip }, async () => {
		const order = watcher.received.filter(message => message.topic === LEGACY || message.topic === LED)
			.map(message => message.topic === LED ? "led" : message.payload === MIGRATE ? "migrate" : message.payload === "" ? "deleted" : "old");
		assert.deepEqual(order.slice(order.indexOf("migrate")), ["migrate", "led", "deleted"], order.join(","));
		const late = await fixture.watcher({ port, topics: [LEGACY] });
		await delay(1_000);
		assert.deepEqual(late.received.map(message => message.payload.slice(0, 40)), [], "nothing retained on the old topic any more");
	});

	it("switches led through the switch's command topic", { skip: sdkSkip }, async () => {
		const led = parse(entities.find(message => message.topic === LED)!.payload) as Record<string, string>;
		const shown = () => {
			const state = watcher.on(led.stat_t).at(-1);
			return state && renderTemplate(led.val_tpl, state.payload);
		};
		await waitFor("the state on connect", () => shown() !== undefined, 15_000);
		assert.equal(shown(), led.stat_off);
		await watcher.publish(led.cmd_t, led.pl_on ?? "ON");
		await waitFor("the switch to show on", () => shown() === led.stat_on, 15_000);
		await watcher.publish(led.cmd_t, led.pl_off ?? "OFF");
		await waitFor("the switch to show off", () => shown() === led.stat_off, 15_000);
	});

	it("publishes them again when Home Assistant announces itself", { skip: sdkSkip }, async () => {
		const before = discovery().length;
		await watcher.publish("homeassistant/status", "online");
		await waitFor("the messages again", () => discovery().length >= before + entities.length, 15_000);
		assert.equal(watcher.on(LED).at(-1)!.payload, entities.find(message => message.topic === LED)!.payload);
	});
});
