/*
 * Command fuzz against a real mosquitto over TLS: a few thousand generated payloads
 * (random bytes, truncated and deeply nested JSON, huge strings, wrong types, unknown
 * ops and pins, some published retained), none of them a valid pin write.
 *
 * Oracle: every non-empty payload gets exactly one answer; a payload whose id is
 * readable under the contract (at most 1024 bytes, nesting at most 4, a JSON object,
 * id a string of 1..64 characters or a number) gets exactly one answer carrying that
 * id, the others one answer with id null. The device stays online without reconnecting,
 * keeps publishing readings, and no pin is written. Payloads go out in small batches,
 * each awaited, at a pace the device's bounded result outbox can take.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { Gate } from "../../modules/app/commands/channel";
import { State } from "../../modules/app/connection/connection";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";

const COUNT = 2_400;
const BATCH = 8;
const SEED = Number(process.env.SMN_FUZZ_SEED ?? 20_251_122);

interface Case {
	payload: Buffer;
	retain: boolean;
	kind: string;
}

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
function generator(seed: number) {
	let state = seed >>> 0;
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
	const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
	const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];
	return { next, int, pick };
}

const NOT_PINS = ["heater", "LED", "led ", "2", "", "button", "constructor", "__proto__", "relay2", "x".repeat(300)];
const NOT_OPS = ["gpio", "gpio.SET", "ota.begin", "reboot", "constructor", "toString", "__proto__", "", "status ", "x".repeat(200)];
const WRONG = [null, true, "1", [], {}, -1, 2, 1.5, 1e308, "on"];
const NOT_LEVELS = [null, "1", "true", [], {}, -1, 2, 1.5, 1e308, "on"];	// true, false, 0 and 1 would be valid

function cases(seed: number): Case[] {
	const r = generator(seed);
	const out: Case[] = [];
	for (let n = 0; n < COUNT; n++) {
		const id: unknown = r.next() < 0.15 ? n : r.next() < 0.05 ? r.pick([{}, [], "", "x".repeat(65), true]) : `f-${n}`;
		const json = (value: Record<string, unknown>) => Buffer.from(JSON.stringify({ id, ...value }));
		const kinds: [string, () => Buffer][] = [
			["bytes", () => Buffer.from(Array.from({ length: r.int(1, 300) }, () => r.int(0, 255)))],
			["truncated", () => {
				const whole = JSON.stringify({ id, op: "gpio.set", pin: "led", value: 1 });
				return Buffer.from(whole.slice(0, r.int(1, whole.length - 1)));
			}],
			["nested", () => {
				const depth = r.next() < 0.5 ? r.int(10, 500) : r.int(500, 100_000);
				const open = r.next() < 0.5 ? "[" : "{\"a\":";
				const close = open === "[" ? "]" : "}";
				return Buffer.from(`{"id":${JSON.stringify(id)},"op":"gpio.set","pin":"led","value":1,"x":${open.repeat(depth)}1${close.repeat(depth)}}`);
			}],
			["huge", () => json({ op: "gpio.get", pad: "y".repeat(r.next() < 0.3 ? r.int(700, 1_000) : r.int(1_000, 300_000)) })],
			["wrong-type", () => r.pick([
				() => json({ op: "gpio.set", pin: r.pick(WRONG), value: 1 }),
				() => json({ op: "gpio.set", pin: "led", value: r.pick(NOT_LEVELS) }),
				() => json({ op: "gpio.pulse", pin: "relay", ms: r.pick([0, 60_001, "100", null, 2.5, -5]) }),
				() => json({ op: "gpio.toggle", pin: "led", extra: r.pick(WRONG) }),
				() => json({ op: "telemetry.interval", ms: r.pick([0, 999, 3_600_001, "5000", null, 1_500.5]) }),
				() => json({ op: "restart", now: true }),
				() => json({ op: r.pick(WRONG) }),
				() => Buffer.from(JSON.stringify(r.pick(WRONG))),
			])()],
			["unknown-op", () => json({ op: r.pick(NOT_OPS), pin: "led", value: 1 })],
			["unknown-pin", () => json({ op: r.pick(["gpio.set", "gpio.toggle", "gpio.pulse", "gpio.get"]), pin: r.pick(NOT_PINS), ...(r.next() < 0.5 ? { value: 1 } : {}) })],
			["read-only", () => json(r.pick([{ op: "status" }, { op: "gpio.get" }, { op: "gpio.get", pin: "led" }]))],
		];
		const [kind, make] = r.pick(kinds);
		out.push({ payload: make(), retain: r.next() < 0.08, kind });
	}
	return out;
}

/** The id the contract says can be read from a payload, or null; undefined for no answer. */
function readableId(payload: Buffer): string | number | null | undefined {
	const text = payload.toString("utf8");
	if (text === "")
		return undefined;
	if (Buffer.byteLength(text) > 1_024)
		return null;
	let depth = 0, deepest = 0, inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (inString) {
			if (c === "\\") i++;
			else if (c === "\"") inString = false;
		}
		else if (c === "\"") inString = true;
		else if (c === "[" || c === "{") deepest = Math.max(deepest, ++depth);
		else if ((c === "]" || c === "}") && depth > 0) depth--;
	}
	if (deepest > 4)
		return null;
	let value: unknown;
	try { value = JSON.parse(text); } catch { return null; }
	if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, "id"))
		return null;
	const id = (value as { id: unknown }).id;
	return (typeof id === "string" && id.length >= 1 && id.length <= 64) || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}

/** Like waitFor, polling every millisecond: thousands of round trips add up. */
async function quickly(what: string, condition: () => boolean, timeout = 5_000): Promise<void> {
	const deadline = Date.now() + timeout;
	while (!condition()) {
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, 1));
	}
}

describe("command fuzz", () => {
	const fixture = new Fixture();
	const ID = "it-fuzz";
	const CMD = `devices/${ID}/cmd`;
	const RESULT = `devices/${ID}/cmd/result`;
	const TELEMETRY = `devices/${ID}/telemetry`;
	let broker: Broker;
	let node: NodeDevice;
	let operator: Watcher;

	before(async () => {
		broker = await fixture.broker();
		operator = await fixture.watcher({ port: broker.port, topics: [RESULT, TELEMETRY] });
		node = fixture.device(broker.port, { deviceId: ID, outputs: "led:2,relay:4", inputs: "button:5" });
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
	});
	after(() => fixture.cleanup());

	const lastSeq = () => Math.max(0, ...operator.readings(TELEMETRY).map(reading => reading.seq));

	it(`answers every attributable payload of ${COUNT} exactly once, stays up, keeps reading, touches no pin`, { timeout: 50_000 }, async () => {
		await operator.publish(CMD, JSON.stringify({ id: "setup", op: "gpio.set", pin: "led", value: 1 }));
		await operator.waitFor(RESULT, result => (result as { id: unknown }).id === "setup");
		const pinsBefore = node.pins.levels();
		const writesBefore = node.pins.history.length;
		const results = () => operator.on(RESULT).length;
		const resultsBefore = results();
		const seqBefore = await waitFor("a reading", () => lastSeq() || undefined);

		const all = cases(SEED);
		const expected = new Map<string | number, number>();
		let answerable = 0, attributable = 0, retained = 0, seqMiddle = 0;
		for (let start = 0; start < all.length; start += BATCH) {
			for (const item of all.slice(start, start + BATCH)) {
				const id = readableId(item.payload);
				if (id !== undefined)
					answerable++;
				if (id !== undefined && id !== null) {
					attributable++;
					expected.set(id, (expected.get(id) ?? 0) + 1);
				}
				if (item.retain)
					retained++;
				await operator.publish(CMD, item.payload, item.retain);
			}
			await quickly(`answers to payloads up to #${start + BATCH}`, () => results() - resultsBefore >= answerable);
			if (start === Math.floor(all.length / 2 / BATCH) * BATCH)
				seqMiddle = lastSeq();
		}
		await waitFor("readings after the fuzz", () => lastSeq() > seqMiddle, 5_000);

		const answers = operator.on(RESULT).slice(resultsBefore).map(message => parse(message.payload) as { id: string | number | null; ok: boolean });
		const byId = new Map<string | number | null, number>();
		for (const answer of answers)
			byId.set(answer.id, (byId.get(answer.id) ?? 0) + 1);
		const codes: Record<string, number> = {};
		for (const answer of answers) {
			const code = answer.ok ? "ok" : String((answer as { error?: { code?: unknown } }).error?.code);
			codes[code] = (codes[code] ?? 0) + 1;
		}
		console.log(`fuzz (seed ${SEED}): sent ${all.length} payloads (${retained} retained, ${answerable} answerable, ${attributable} with a readable id); got ${answers.length} answers (${answers.length - (byId.get(null) ?? 0)} with an id) ${JSON.stringify(codes)}; readings seq ${seqBefore} -> ${seqMiddle} -> ${lastSeq()}`);

		assert.equal(answers.length, answerable, "one answer per non-empty payload");
		for (const [id, count] of expected)
			assert.equal(byId.get(id), count, `answers with id ${JSON.stringify(id)}`);
		assert.equal(byId.get(null) ?? 0, answerable - attributable, "the rest are answered with id null");
		assert.ok(answers.every(answer => answer.ok || typeof (answer as { error?: { code?: unknown } }).error?.code === "string"));
		assert.equal(node.device.connection.state, State.Online);
		assert.equal(node.device.connection.reconnects, 0, "the session never dropped");
		assert.ok(seqMiddle > seqBefore && lastSeq() > seqMiddle, "readings kept coming during and after the fuzz");
		assert.deepEqual(node.pins.levels(), pinsBefore);
		assert.equal(node.pins.history.length, writesBefore, "no pin was written");
		assert.equal(node.device.channel.outbox.dropped, 0);
	});

	it("after a reconnect, the retained leftover of the fuzz is refused, not executed, and deleted", async () => {
		// MQTT 3.1.1 forwards a retained publish to present subscribers as a live message,
		// so during the fuzz those were answered like the others; the broker kept the last.
		const last = cases(SEED).filter(item => item.retain).at(-1)!;
		const id = readableId(last.payload) ?? null;
		const before = operator.on(RESULT).length;
		const writes = node.pins.history.length;
		assert.ok(node.cut());
		await waitFor("the reconnect", () => node.device.connection.reconnects === 1 && node.device.channel.gate === Gate.Open, 10_000);
		await waitFor("the refusal", () => operator.on(RESULT).length > before, 5_000);
		const answers = operator.on(RESULT).slice(before).map(message => parse(message.payload) as { id: unknown; error?: { code: string } });
		assert.deepEqual(answers.map(answer => [answer.id, answer.error?.code]), [[id, "E_RETAINED"]]);
		assert.equal(node.pins.history.length, writes);
		const late = await fixture.watcher({ port: broker.port, topics: [CMD] });
		await new Promise(resolve => setTimeout(resolve, 300));
		assert.deepEqual(late.on(CMD), [], "the device deleted the retained command");
	});
});
