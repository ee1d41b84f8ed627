/*
 * The device simulator (-p sim/moddable_two): the firmware builds for it and runs with
 * its own board/pins variant. "led" is the simulated board's LED (Host.LED): a write
 * answers with the level read back from it and leaves no virtual-pin trace, while
 * another output is still a virtual pin that traces its change. Readings flow as in
 * plain lin. Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { waitFor } from "../../tools/harness/wait";
import { sdkSkip, simulatedDevice } from "./support";

const PLATFORM = "sim/moddable_two";

describe(`simulator: ${PLATFORM}`, () => {
	const sim = simulatedDevice("sim-device", { config: { outputs: "led:0,relay:4" }, platform: PLATFORM });
	before(() => {
		if (!sdkSkip)
			assert.match(sim.library, /\/bin\/lin\/moddable_two\//, "built for the device simulator");
	});

	const result = (id: string) => sim.messages<{ id: string }>("cmd/result").find(entry => entry.id === id);
	const send = (command: object) => sim.watcher.publish(sim.topic("cmd"), JSON.stringify(command));

	it("publishes readings", { skip: sdkSkip }, async () => {
		await sim.watcher.waitFor(sim.topic("telemetry"), payload => (payload as { seq?: number }).seq === 1, 15_000);
	});

	it("drives led through Host.LED and other outputs as virtual pins", { skip: sdkSkip }, async () => {
		await send({ id: "led-1", op: "gpio.set", pin: "led", value: 1 });
		assert.deepEqual(await waitFor("the led answer", () => result("led-1"), 15_000), { id: "led-1", ok: true, pin: "led", value: 1 });
		await send({ id: "relay-1", op: "gpio.set", pin: "relay", value: 1 });
		assert.deepEqual(await waitFor("the relay answer", () => result("relay-1"), 15_000), { id: "relay-1", ok: true, pin: "relay", value: 1 });
		await waitFor("the relay's virtual-pin trace", () => sim.simulator.lines.includes("pin relay(4) -> 1"), 5_000);
		assert.ok(!sim.simulator.lines.some(line => line.startsWith("pin led(")), "led is not a virtual pin here");
	});
});
