/*
 * Home Assistant discovery in the Linux simulator: the discovery message (larger than
 * one TLS write, so mqtt-tls writes it in pieces) arrives whole and retained, the `led`
 * switch works through its command topic, and "online" on homeassistant/status brings
 * it again. Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { renderTemplate } from "../support/ha-template";
import { waitFor } from "../support/wait";
import { parse, type Received, type Watcher } from "../support/watcher";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-ha";
const CONFIG = `homeassistant/device/${ID}/config`;

interface Discovery {
	stat_t: string;
	cmps: Record<string, Record<string, string>>;
}

describe("simulator: home assistant discovery", () => {
	let fixture: DeviceFixture;
	let watcher: Watcher;
	let retained: Received;

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		const library = await fixture.build(broker.port, ID, { outputs: "led:2", haDiscovery: "true" });
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`, "homeassistant/#"] });
		fixture.simulate(library);
		await watcher.waitFor(CONFIG, () => true, 60_000);
		const late = await fixture.watcher({ port: broker.port, topics: [CONFIG] });
		retained = await late.waitFor(CONFIG, () => true, 15_000);
		if (process.env.SMN_TEST_LOGS === "1")
			console.log(`[discovery] ${retained.payload}`);
	});
	after(() => fixture?.cleanup());

	it("publishes the discovery message whole and retained", { skip: sdkSkip }, () => {
		assert.equal(retained.retain, true);
		assert.ok(Buffer.byteLength(retained.payload) > 850, "larger than one TLS write");
		const { cmps } = parse(retained.payload) as Discovery;
		assert.deepEqual(Object.keys(cmps).sort(), ["gpio_led", "humidity", "restart", "temperature"]);
	});

	it("switches led through the switch's command topic", { skip: sdkSkip }, async () => {
		const discovery = parse(retained.payload) as Discovery;
		const led = discovery.cmps.gpio_led;
		const shown = () => {
			const state = watcher.on(discovery.stat_t).at(-1);
			return state && renderTemplate(led.val_tpl, state.payload);
		};
		await waitFor("the state on connect", () => shown() !== undefined, 15_000);
		assert.equal(shown(), led.stat_off);
		await watcher.publish(led.cmd_t, led.pl_on ?? "ON");
		await waitFor("the switch to show on", () => shown() === led.stat_on, 15_000);
		await watcher.publish(led.cmd_t, led.pl_off ?? "OFF");
		await waitFor("the switch to show off", () => shown() === led.stat_off, 15_000);
	});

	it("publishes it again when Home Assistant announces itself", { skip: sdkSkip }, async () => {
		const before = watcher.on(CONFIG).length;
		await watcher.publish("homeassistant/status", "online");
		await waitFor("another discovery message", () => watcher.on(CONFIG).length > before, 15_000);
		assert.equal(watcher.on(CONFIG).at(-1)!.payload, retained.payload);
	});
});
