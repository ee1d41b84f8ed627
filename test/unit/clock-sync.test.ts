/*
 * The ESP32 link's clock sync (issue 18, risk 11): one SNTP query or one waiting retry
 * at a time, however often WiFi flaps or hands out an address before the clock is set.
 * The link itself (SDK wifi/sntp) is generated and type-checked only; this drives its
 * clock-sync part with fake timers.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createClockSync } from "../../modules/board/link/clock-sync";
import { FakeTime, recordingLog } from "./support/fakes";

function rig() {
	const time = new FakeTime({ ticks: 0, wall: undefined });
	const queries: { done: (set: boolean) => void; closed: boolean }[] = [];
	let up = true;
	let clockSet = false;
	const sync = createClockSync({
		needed: () => up && !clockSet,
		query: done => {
			const query = { done, closed: false };
			queries.push(query);
			return { close: () => { query.closed = true; } };
		},
		timers: time, retryAfter: 10_000, log: recordingLog(),
	});
	const open = () => queries.filter(query => !query.closed && !(query as { answered?: boolean }).answered);
	const fail = () => { for (const query of open()) { (query as { answered?: boolean }).answered = true; query.done(false); } };
	return { time, queries, sync, open, fail, setUp: (value: boolean) => { up = value; }, setClock: () => { clockSet = true; } };
}

test("clock sync: address events while a query runs or a retry waits start nothing more", () => {
	const r = rig();
	r.sync.start();
	r.sync.start();	// a second address event before any answer
	assert.equal(r.queries.length, 1);
	r.fail();
	r.sync.start();	// another address event while the retry waits
	assert.equal(r.queries.length, 1);
	assert.equal(r.time.pending, 1, "one retry waiting");
	for (let round = 0; round < 6; round++) {
		r.time.advance(10_000);
		r.sync.start();
		assert.equal(r.open().length, 1, "one query at a time");
		r.fail();
		assert.equal(r.time.pending, 1, "one retry waiting");
	}
	assert.equal(r.queries.length, 7, "one query per retry period");
});

test("clock sync: WiFi flapping before the clock is set leaves one loop, not one per flap", () => {
	const r = rig();
	for (let flap = 0; flap < 20; flap++) {
		r.setUp(true);
		r.sync.start();
		r.fail();
		r.time.advance(1_000);
		r.setUp(false);
		r.sync.stop();
	}
	assert.equal(r.time.pending, 0, "no retry survives the link going down");
	assert.ok(r.queries.every(query => query.closed || (query as { answered?: boolean }).answered));
	r.setUp(true);
	r.sync.start();
	r.fail();
	const before = r.queries.length;
	r.time.advance(60_000);	// every retry fails: one query per 10 s
	r.fail();
	assert.ok(r.queries.length - before <= 6, `queries in 60 s: ${r.queries.length - before}`);
	r.setClock();
	r.time.advance(60_000);
	r.fail();
	assert.equal(r.time.pending, 0, "the clock is set: nothing more is scheduled");
});

test("clock sync: stop() abandons a running query, whose late answer is ignored", () => {
	const r = rig();
	r.sync.start();
	const first = r.queries[0];
	r.sync.stop();
	assert.equal(first.closed, true);
	first.done(false);	// a late answer
	assert.equal(r.time.pending, 0);
	r.sync.start();
	assert.equal(r.queries.length, 2);
});
