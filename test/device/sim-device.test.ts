/*
 * The device simulator (-p sim/moddable_two): the firmware builds for it and runs with
 * its own board/pins variant. "led" is the simulated board's LED (Host.LED): a write
 * answers with the level read back from it and leaves no virtual-pin trace, while
 * another output is still a virtual pin that traces its change. Readings flow as in
 * plain lin. Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";
import type { Simulator } from "../../tools/sdk";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-device";
const PLATFORM = "sim/moddable_two";
const TOPIC = (leaf: string) => `devices/${ID}/${leaf}`;

describe(`simulator: ${PLATFORM}`, () => {
	let fixture: DeviceFixture;
	let watcher: Watcher;
	let simulator: Simulator;

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		const library = await fixture.build(broker.port, ID, { outputs: "led:0,relay:4" }, PLATFORM);
		assert.match(library, /\/bin\/lin\/moddable_two\//, "built for the device simulator");
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`] });
		simulator = fixture.simulate(library);
		await watcher.waitFor(TOPIC("status"), payload => (payload as { online?: boolean }).online === true, 60_000);
	});
	after(() => fixture?.cleanup());

	const result = (id: string) => watcher.on(TOPIC("cmd/result")).map(message => parse(message.payload) as { id: string }).find(entry => entry.id === id);
	const send = (command: object) => watcher.publish(TOPIC("cmd"), JSON.stringify(command));

	it("publishes readings", { skip: sdkSkip }, async () => {
		await watcher.waitFor(TOPIC("telemetry"), payload => (payload as { seq?: number }).seq === 1, 15_000);
	});

	it("drives led through Host.LED and other outputs as virtual pins", { skip: sdkSkip }, async () => {
		await send({ id: "led-1", op: "gpio.set", pin: "led", value: 1 });
		assert.deepEqual(await waitFor("the led answer", () => result("led-1"), 15_000), { id: "led-1", ok: true, pin: "led", value: 1 });
		await send({ id: "relay-1", op: "gpio.set", pin: "relay", value: 1 });
		assert.deepEqual(await waitFor("the relay answer", () => result("relay-1"), 15_000), { id: "relay-1", ok: true, pin: "relay", value: 1 });
		await waitFor("the relay's virtual-pin trace", () => simulator.lines.includes("pin relay(4) -> 1"), 5_000);
		assert.ok(!simulator.lines.some(line => line.startsWith("pin led(")), "led is not a virtual pin here");
	});
});
