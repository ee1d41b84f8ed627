/*
 * npm start's live view (tools/live-view.ts): one line per event, commands shown once
 * with their result, sync markers and the retained-command deletion hidden, nothing cut.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiveView } from "../../tools/live-view";

function view() {
	let now = 1_000;
	const live = new LiveView({ answerTimeout: 5_000, now: () => now });
	return { live, advance: (ms: number) => { now += ms; } };
}

describe("live view", () => {
	it("prints a command once, together with its result", () => {
		const { live, advance } = view();
		assert.equal(live.feed("devices/d1/cmd", '{"id":"c1","op":"gpio.set","pin":"led","value":1}'), undefined);
		advance(12);
		assert.equal(live.feed("devices/d1/state", '{"gpio":{"led":1,"relay":0}}', false), "d1 pins led=1 relay=0");
		assert.equal(live.feed("devices/d1/cmd/result", '{"id":"c1","ok":true,"pin":"led","value":1}'),
			"d1 cmd c1 gpio.set pin=led value=1 (12 ms) -> ok pin=led value=1");
	});

	it("matches out-of-order results by id and errors by code", () => {
		const { live } = view();
		live.feed("devices/d1/cmd", '{"id":"a","op":"status"}');
		live.feed("devices/d1/cmd", '{"id":"b","op":"gpio.set","pin":"door","value":1}');
		assert.equal(live.feed("devices/d1/cmd/result", '{"id":"b","ok":false,"error":{"code":"E_PIN","message":"pin \\"door\\" is not a configured output"}}'),
			'd1 cmd b gpio.set pin=door value=1 (0 ms) -> E_PIN pin "door" is not a configured output');
		assert.match(live.feed("devices/d1/cmd/result", '{"id":"a","ok":true,"uptime":5}')!, /^d1 cmd a status \(0 ms\) -> ok uptime=5$/);
	});

	it("matches id-less and unreadable commands to null-id results in order", () => {
		const { live } = view();
		live.feed("devices/d1/cmd", "not json");
		live.feed("devices/d1/cmd", '{"op":"status"}');
		assert.match(live.feed("devices/d1/cmd/result", '{"id":null,"ok":false,"error":{"code":"E_PARSE","message":"payload is not valid JSON"}}')!,
			/^d1 cmd \(not an object: "not json"\) .* -> E_PARSE payload is not valid JSON$/);
		assert.match(live.feed("devices/d1/cmd/result", '{"id":null,"ok":true,"uptime":1}')!, /^d1 cmd \(no id\) status .* -> ok uptime=1$/);
	});

	it("hides sync markers and the empty retained deletion", () => {
		const { live } = view();
		assert.equal(live.feed("devices/d1/sync", "3:42"), undefined);
		assert.equal(live.feed("devices/d1/sync", "cmd:3:1"), undefined);
		assert.equal(live.feed("devices/d1/cmd", "", true), undefined);
		assert.deepEqual(live.expire(), [], "the deletion is not a pending command");
	});

	it("shows birth, readings and OTA progress compactly and never cuts a line", () => {
		const { live } = view();
		assert.equal(live.feed("devices/d1/status", '{"online":true,"fw":"1.0.0","boot":3,"reason":"power-on"}', true), "d1 online fw 1.0.0 boot 3 (power-on) (retained)");
		assert.equal(live.feed("devices/d1/telemetry", '{"boot":3,"seq":4,"ts":1,"values":{"temperature":21.5,"humidity":45}}'), "d1 reading 3:4 temperature=21.5 humidity=45");
		assert.equal(live.feed("devices/d1/ota", '{"state":"downloading","version":"1.1.0","received":49152,"total":98304}'), "d1 ota 1.1.0 downloading 50% (48.0/96.0 KiB)");
		assert.equal(live.feed("devices/d1/status", '{"online":false}'), "d1 offline");
		const long = "x".repeat(400);
		assert.equal(live.feed("devices/d1/other", long), `d1 other ${long}`);
	});

	it("reports a command that got no answer, once", () => {
		const { live, advance } = view();
		live.feed("devices/d1/cmd", '{"id":"c9","op":"restart"}');
		advance(4_999);
		assert.deepEqual(live.expire(), []);
		advance(1);
		assert.deepEqual(live.expire(), ["d1 cmd c9 restart -> no answer in 5 s"]);
		assert.deepEqual(live.expire(), []);
	});
});

describe("live view: each command once, with its real outcome (issue 21, defect 3)", () => {
	it("matches a command whose id the device cannot read (\"\") to its null-id answer, and never expires it", () => {
		const { live, advance } = view();
		assert.equal(live.feed("devices/d1/cmd", '{"id":"","op":"status"}'), undefined);
		assert.equal(live.feed("devices/d1/cmd/result", '{"id":null,"ok":false,"error":{"code":"E_SHAPE","message":"id \\"\\" must be a string of 1..64 characters or a number"}}'),
			'd1 cmd "" status (0 ms) -> E_SHAPE id "" must be a string of 1..64 characters or a number');
		advance(10_000);
		assert.deepEqual(live.expire(), []);
	});

	it("matches a command over 1024 bytes (whose id is not read) to its E_TOO_LARGE answer", () => {
		const { live, advance } = view();
		live.feed("devices/d1/cmd", JSON.stringify({ id: "big", op: "status", pad: "x".repeat(1_100) }));
		assert.match(live.feed("devices/d1/cmd/result", '{"id":null,"ok":false,"error":{"code":"E_TOO_LARGE","message":"payload exceeds 1024 bytes"}}')!,
			/^d1 cmd big status pad=x+ \(0 ms\) -> E_TOO_LARGE payload exceeds 1024 bytes$/);
		advance(10_000);
		assert.deepEqual(live.expire(), []);
	});

	it("shows a plain gpio/<name>/set as one line with its answer; an empty one is not a command", () => {
		const { live, advance } = view();
		assert.equal(live.feed("devices/d1/gpio/led/set", "ON"), undefined);
		assert.equal(live.feed("devices/d1/state", '{"gpio":{"led":1}}'), "d1 pins led=1");
		assert.equal(live.feed("devices/d1/cmd/result", '{"id":null,"ok":true,"pin":"led","value":1}'), 'd1 cmd gpio/led/set "ON" (0 ms) -> ok pin=led value=1');
		assert.equal(live.feed("devices/d1/gpio/led/set", "", true), undefined);
		advance(10_000);
		assert.deepEqual(live.expire(), []);
	});

	it("keeps a numbered id's answer for its own command, not an earlier id-less one", () => {
		const { live } = view();
		live.feed("devices/d1/cmd", "not json");
		live.feed("devices/d1/cmd", '{"id":7,"op":"status"}');
		assert.match(live.feed("devices/d1/cmd/result", '{"id":7,"ok":true,"uptime":1}')!, /^d1 cmd 7 status .* -> ok uptime=1$/);
		assert.match(live.feed("devices/d1/cmd/result", '{"id":null,"ok":false,"error":{"code":"E_PARSE","message":"payload is not valid JSON"}}')!, /not json/);
	});
});
