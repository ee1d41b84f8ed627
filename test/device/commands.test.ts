/*
 * Commands in the Linux simulator: gpio.set on "led" changes the retained state (read
 * back from the virtual pin), a malformed command gets E_PARSE (naming UTF-8 for bytes
 * that are not UTF-8), an unknown pin E_PIN,
 * and readings continue throughout. Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor } from "../../tools/harness/wait";
import { parse } from "../../tools/harness/watcher";
import { sdkSkip, simulatedDevice } from "./support";

interface Result {
	id: string | null;
	ok: boolean;
	value?: number;
	error?: { code: string; message: string };
}

describe("simulator: commands", () => {
	const sim = simulatedDevice("sim-commands", { config: { outputs: "led:2,relay:4" } });
	const results = () => sim.messages<Result>("cmd/result");
	const states = () => sim.watcher.on(sim.topic("state")).map(message => ({ ...(parse(message.payload) as { gpio: Record<string, number> }), retain: message.retain }));
	const seq = () => Math.max(0, ...sim.messages<{ seq: number }>("telemetry").map(reading => reading.seq));
	const send = (payload: string) => sim.watcher.publish(sim.topic("cmd"), payload);

	it("gpio.set on led changes the retained state", { skip: sdkSkip }, async () => {
		await waitFor("the state on connect", () => states().length >= 1, 15_000);
		assert.deepEqual(states()[0].gpio, { led: 0, relay: 0 });
		await send(JSON.stringify({ id: "set-1", op: "gpio.set", pin: "led", value: 1 }));
		const result = await waitFor("the answer", () => results().find(entry => entry.id === "set-1"), 15_000);
		assert.deepEqual(result, { id: "set-1", ok: true, pin: "led", value: 1 });
		await waitFor("the new state", () => states().some(state => state.gpio.led === 1), 15_000);

		// A late subscriber gets the retained state.
		const late = await sim.fixture.watcher({ port: sim.broker.port, topics: [sim.topic("state")] });
		const retained = await late.waitFor(sim.topic("state"), () => true, 15_000);
		assert.equal(retained.retain, true);
		assert.deepEqual((parse(retained.payload) as { gpio: Record<string, number> }).gpio, { led: 1, relay: 0 });
	});

	it("answers malformed commands with stable codes and keeps publishing", { skip: sdkSkip }, async () => {
		const before = seq();
		await send("{\"id\":\"bad-1\",\"op\":");
		await send("not json at all");
		await send(JSON.stringify({ id: "pin-1", op: "gpio.set", pin: "door", value: 1 }));
		await send("[".repeat(1000));	// would overflow XS's native stack in JSON.parse
		await send("x".repeat(5000));
		await waitFor("five answers", () => results().filter(entry => entry.error).length >= 5, 15_000);
		const errors = results().filter(entry => entry.error);
		assert.deepEqual(errors.map(entry => [entry.id, entry.error!.code]),
			[[null, "E_PARSE"], [null, "E_PARSE"], ["pin-1", "E_PIN"], [null, "E_SHAPE"], [null, "E_TOO_LARGE"]]);
		assert.match(errors[2].error!.message, /door/);
		await waitFor("readings continue", () => seq() >= before + 2, 15_000);
		assert.equal(states().at(-1)!.gpio.relay, 0, "no pin changed");
	});

	it("answers a payload that is not UTF-8 with E_PARSE naming UTF-8", { skip: sdkSkip }, async () => {
		const from = results().length;
		await sim.watcher.publish(sim.topic("cmd"), Buffer.concat([Buffer.from("{\"id\":\"u"), Buffer.of(0xff), Buffer.from("\",\"op\":\"status\"}")]));
		const answer = await waitFor("the answer", () => results().slice(from).find(entry => entry.error), 15_000);
		assert.equal(answer.id, null);
		assert.equal(answer.error!.code, "E_PARSE");
		assert.match(answer.error!.message, /not valid UTF-8/);
	});
});
