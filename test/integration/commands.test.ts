/*
 * Commands against a real mosquitto over TLS: a retained command waiting at the broker
 * is refused and deleted, not executed; set, toggle and pulse change the pin and the
 * retained state; a debounced input change is published.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { Gate } from "../../modules/app/commands/channel";
import { Fixture } from "../../tools/harness/fixture";
import { delay, waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";

interface Result {
	id: unknown;
	ok: boolean;
	error?: { code: string; message: string };
	[field: string]: unknown;
}

describe("commands", () => {
	const fixture = new Fixture();
	const ID = "it-cmd";
	const CMD = `devices/${ID}/cmd`;
	const RESULT = `devices/${ID}/cmd/result`;
	const STATE = `devices/${ID}/state`;
	let broker: Broker;
	let node: NodeDevice;
	let operator: Watcher;

	before(async () => {
		broker = await fixture.broker();
		operator = await fixture.watcher({ port: broker.port, topics: [RESULT, STATE] });
		// A stale command left retained at the broker before the device ever connects.
		await operator.publish(CMD, JSON.stringify({ id: "stale-1", op: "gpio.set", pin: "relay", value: 1 }), true);
		node = fixture.device(broker.port, { deviceId: ID, outputs: "led:2,relay:4", inputs: "button:5" });
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
	});
	after(() => fixture.cleanup());

	async function command(payload: Record<string, unknown>): Promise<Result> {
		await operator.publish(CMD, JSON.stringify(payload));
		const answer = await operator.waitFor(RESULT, result => (result as Result).id === payload.id, 5_000);
		return parse(answer.payload) as Result;
	}

	/** The retained state a subscriber arriving now receives. */
	async function retainedState(): Promise<unknown> {
		const late = await fixture.watcher({ port: broker.port, topics: [STATE] });
		const state = await late.waitFor(STATE);
		assert.equal(state.retain, true);
		await late.close();
		return parse(state.payload);
	}

	it("refuses the retained command with E_RETAINED, leaves the pin alone and deletes it at the broker", async () => {
		const answer = parse((await operator.waitFor(RESULT, result => (result as Result).id === "stale-1")).payload) as Result;
		assert.equal(answer.ok, false);
		assert.equal(answer.error?.code, "E_RETAINED");
		assert.deepEqual(node.pins.history, []);
		assert.equal(node.pins.level("relay"), 0);
		const late = await fixture.watcher({ port: broker.port, topics: [CMD] });
		await delay(300);
		assert.deepEqual(late.on(CMD), [], "no retained command is left at the broker");
		await late.close();
		assert.deepEqual(await retainedState(), { gpio: { led: 0, relay: 0, button: 0 } });
	});

	it("gpio.set changes the pin and the retained state", async () => {
		assert.deepEqual(await command({ id: "set-1", op: "gpio.set", pin: "led", value: 1 }), { id: "set-1", ok: true, pin: "led", value: 1 });
		assert.equal(node.pins.level("led"), 1);
		assert.deepEqual(await retainedState(), { gpio: { led: 1, relay: 0, button: 0 } });
	});

	it("gpio.toggle inverts the pin and the retained state", async () => {
		assert.deepEqual(await command({ id: "tog-1", op: "gpio.toggle", pin: "led" }), { id: "tog-1", ok: true, pin: "led", value: 0 });
		assert.equal(node.pins.level("led"), 0);
		assert.deepEqual(await retainedState(), { gpio: { led: 0, relay: 0, button: 0 } });
	});

	it("gpio.pulse drives the pin for ms, answers E_BUSY meanwhile, then restores it", async () => {
		const states = operator.on(STATE).length;
		assert.deepEqual(await command({ id: "pulse-1", op: "gpio.pulse", pin: "relay", ms: 400 }), { id: "pulse-1", ok: true, pin: "relay", value: 1, ms: 400 });
		assert.equal(node.pins.level("relay"), 1);
		assert.equal((await command({ id: "pulse-2", op: "gpio.pulse", pin: "relay", ms: 400 })).error?.code, "E_BUSY");
		await waitFor("the pulse to end", () => node.pins.level("relay") === 0, 3_000);
		await waitFor("the state after the pulse", () => operator.on(STATE).length >= states + 2);
		const seen = operator.on(STATE).slice(states).map(message => (parse(message.payload) as { gpio: Record<string, number> }).gpio.relay);
		assert.deepEqual(seen, [1, 0]);
		assert.deepEqual(node.pins.history.filter(write => write.name === "relay").map(write => write.value), [1, 0]);
		assert.deepEqual(await retainedState(), { gpio: { led: 0, relay: 0, button: 0 } });
	});

	it("a debounced input change is published in the retained state", async () => {
		node.pins.setInput("button", 1);
		await operator.waitFor(STATE, state => JSON.stringify(state) === "{\"gpio\":{\"led\":0,\"relay\":0,\"button\":1}}", 3_000);
		assert.deepEqual(await command({ id: "get-1", op: "gpio.get", pin: "button" }), { id: "get-1", ok: true, pin: "button", value: 1 });
	});

	it("without the RETAIN flag (as on XS) the settle marker alone refuses a retained command", async () => {
		const XS = "it-cmd-xs";
		await operator.publish(`devices/${XS}/cmd`, JSON.stringify({ id: "stale-xs", op: "gpio.set", pin: "led", value: 1 }), true);
		const watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${XS}/cmd/result`] });
		const xs = fixture.device(broker.port, { deviceId: XS, outputs: "led:2" }, { reportRetain: false });
		xs.device.start();
		const answer = parse((await watcher.waitFor(`devices/${XS}/cmd/result`)).payload) as Result;
		assert.equal(answer.id, "stale-xs");
		assert.equal(answer.error?.code, "E_RETAINED");
		await waitFor("the xs device's gate to open", () => xs.device.channel.gate === Gate.Open);
		assert.deepEqual(xs.pins.history, []);
		xs.device.stop();
	});

	it("unknown pins and malformed commands are refused and the device keeps going", async () => {
		assert.equal((await command({ id: "bad-1", op: "gpio.set", pin: "heater", value: 1 })).error?.code, "E_PIN");
		await operator.publish(CMD, "{\"id\":\"bad-2\",");
		await operator.waitFor(RESULT, result => (result as Result).id === null && (result as Result).error?.code === "E_PARSE");
		const status = await command({ id: "st-1", op: "status" });
		assert.equal(status.ok, true);
		assert.equal(status.reconnects, 0);
		assert.equal(status.heap, null, "no board heap on Node (the README's status row says why)");
		assert.equal(status.rssi, null);
	});

	it("payloads that are not UTF-8 are E_PARSE, as on the device, and never executed", async () => {
		const history = node.pins.history.length;
		const from = operator.on(RESULT).length;
		const binary = Buffer.alloc(400, 0xff);	// Node alone would make 1,200 bytes of U+FFFD of it: E_TOO_LARGE
		const badId = Buffer.concat([Buffer.from("{\"id\":\"x"), Buffer.of(0xc3), Buffer.from("\",\"op\":\"gpio.toggle\",\"pin\":\"led\"}")]);
		await operator.publish(CMD, binary);
		await operator.publish(CMD, badId);
		await waitFor("two answers", () => operator.on(RESULT).length >= from + 2, 5_000);
		const answers = operator.on(RESULT).slice(from).map(message => parse(message.payload) as Result);
		assert.deepEqual(answers.map(answer => [answer.id, answer.error?.code]), [[null, "E_PARSE"], [null, "E_PARSE"]]);
		for (const answer of answers)
			assert.match(answer.error!.message, /not valid UTF-8/);
		assert.equal(node.pins.history.length, history, "nothing was toggled");
	});
});
