/*
 * A burst of commands against a real mosquitto: 300 gpio.toggle commands published
 * back to back. Every one is answered exactly once (executed, or refused with E_BUSY
 * and not executed), and the pin toggled exactly as many times as answers say ok.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { Gate } from "../../modules/app/commands/channel";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";

interface Result {
	id: unknown;
	ok: boolean;
	value?: number;
	error?: { code: string };
}

describe("command burst", () => {
	const fixture = new Fixture();
	const ID = "it-burst";
	const CMD = `devices/${ID}/cmd`;
	const RESULT = `devices/${ID}/cmd/result`;
	const COUNT = 300;
	let broker: Broker;
	let node: NodeDevice;
	let operator: Watcher;

	before(async () => {
		broker = await fixture.broker();
		operator = await fixture.watcher({ port: broker.port, topics: [RESULT] });
		node = fixture.device(broker.port, { deviceId: ID, outputs: "led:2" });
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
	});
	after(() => fixture.cleanup());

	it(`answers each of ${COUNT} back-to-back commands exactly once and executes only the answered-ok ones`, async () => {
		const before = node.device.gpio.get("led");
		await Promise.all(Array.from({ length: COUNT }, (_, i) =>
			operator.publish(CMD, JSON.stringify({ id: `b-${i}`, op: "gpio.toggle", pin: "led" }))));
		await waitFor(`${COUNT} answers`, () => operator.on(RESULT).length >= COUNT, 20_000).catch(() => undefined);
		const results = operator.on(RESULT).map(message => parse(message.payload) as Result);
		const ids = results.map(result => result.id);
		assert.equal(new Set(ids).size, ids.length, "no id answered twice");
		assert.equal(results.length, COUNT, `answers: ${results.length} of ${COUNT}`);
		for (let i = 0; i < COUNT; i++)
			assert.ok(ids.includes(`b-${i}`), `b-${i} answered`);
		for (const result of results.filter(result => !result.ok))
			assert.equal(result.error?.code, "E_BUSY", JSON.stringify(result));
		const executed = results.filter(result => result.ok).length;
		assert.ok(executed > 0, "some commands ran");
		assert.equal(node.device.gpio.get("led"), (before + executed) % 2, "the pin toggled once per ok answer");
	});
});
