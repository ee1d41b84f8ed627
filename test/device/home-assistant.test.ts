/*
 * Home Assistant discovery in the Linux simulator, in the largest config (16 pins with
 * 16-character names, a 64-character id): the discovery message, about 6 KB and so
 * written by mqtt-tls in pieces of one TLS write each, arrives whole and retained; the
 * `led` switch works through its command topic; "online" on homeassistant/status
 * brings the message again. Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { renderTemplate } from "../../tools/harness/ha-template";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Received, type Watcher } from "../../tools/harness/watcher";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-ha-".padEnd(64, "x");
const NAME = (kind: string, n: number) => `${kind}_number_${String(n).padStart(2, "0")}`.padEnd(16, "_");	// 16 characters
const OUTPUTS = ["led:2", ...Array.from({ length: 7 }, (_, i) => `${NAME("output", i)}:${i + 3}`)].join(",");
const INPUTS = Array.from({ length: 8 }, (_, i) => `${NAME("input", i)}:${i + 20}`).join(",");
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
		const library = await fixture.build(broker.port, ID, { outputs: OUTPUTS, inputs: INPUTS, haDiscovery: "true" });
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
		assert.ok(Buffer.byteLength(retained.payload) > 5 * 850, `${Buffer.byteLength(retained.payload)} bytes: several TLS writes`);
		const { cmps } = parse(retained.payload) as Discovery;
		const kinds = Object.values(cmps).map(entry => entry.p);
		assert.deepEqual([kinds.filter(p => p === "switch").length, kinds.filter(p => p === "binary_sensor").length], [8, 8]);
		assert.deepEqual(Object.keys(cmps).filter(key => !key.startsWith("gpio_")), ["temperature", "humidity", "restart"]);
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
