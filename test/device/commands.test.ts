/*
 * Commands in the Linux simulator: gpio.set on "led" changes the retained state (read
 * back from the virtual pin), a malformed command gets E_PARSE (naming UTF-8 for bytes
 * that are not UTF-8), an unknown pin E_PIN,
 * and readings continue throughout. Skipped where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-commands";
const TOPIC = (leaf: string) => `devices/${ID}/${leaf}`;

interface Result {
	id: string | null;
	ok: boolean;
	value?: number;
	error?: { code: string; message: string };
}

describe("simulator: commands", () => {
	let fixture: DeviceFixture;
	let watcher: Watcher;

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		const library = await fixture.build(broker.port, ID, { outputs: "led:2,relay:4" });
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`] });
		fixture.simulate(library);
		await watcher.waitFor(TOPIC("status"), payload => (payload as { online?: boolean }).online === true, 60_000);
	});
	after(() => fixture?.cleanup());

	const results = () => watcher.on(TOPIC("cmd/result")).map(message => parse(message.payload) as Result);
	const states = () => watcher.on(TOPIC("state")).map(message => ({ ...(parse(message.payload) as { gpio: Record<string, number> }), retain: message.retain }));
	const seq = () => Math.max(0, ...watcher.on(TOPIC("telemetry")).map(message => (parse(message.payload) as { seq: number }).seq));
	const send = (payload: string) => watcher.publish(TOPIC("cmd"), payload);

	it("gpio.set on led changes the retained state", { skip: sdkSkip }, async () => {
		await waitFor("the state on connect", () => states().length >= 1, 15_000);
		assert.deepEqual(states()[0].gpio, { led: 0, relay: 0 });
		await send(JSON.stringify({ id: "set-1", op: "gpio.set", pin: "led", value: 1 }));
		const result = await waitFor("the answer", () => results().find(entry => entry.id === "set-1"), 15_000);
		assert.deepEqual(result, { id: "set-1", ok: true, pin: "led", value: 1 });
		await waitFor("the new state", () => states().some(state => state.gpio.led === 1), 15_000);

		// A late subscriber gets the retained state.
		const late = await fixture.watcher({ port: fixture.brokers[0].port, topics: [TOPIC("state")] });
		const retained = await late.waitFor(TOPIC("state"), () => true, 15_000);
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
		await watcher.publish(TOPIC("cmd"), Buffer.concat([Buffer.from("{\"id\":\"u"), Buffer.of(0xff), Buffer.from("\",\"op\":\"status\"}")]));
		const answer = await waitFor("the answer", () => results().slice(from).find(entry => entry.error), 15_000);
		assert.equal(answer.id, null);
		assert.equal(answer.error!.code, "E_PARSE");
		assert.match(answer.error!.message, /not valid UTF-8/);
	});
});
