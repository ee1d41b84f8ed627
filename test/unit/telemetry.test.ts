import { test } from "node:test";
import assert from "node:assert/strict";
import { Telemetry } from "../../modules/app/connection/telemetry";
import type { SessionEvents } from "../../modules/app/ports";
import { FakeSession, FakeTime, ScriptedSensor, recordingLog } from "./support/fakes";

const WALL = 1_763_769_600_000;
const TELEMETRY = "devices/node-1/telemetry";
const SYNC = "devices/node-1/sync";
const NO_EVENTS: SessionEvents = { onReady() {}, onMessage() {}, onRefused() {}, onClose() {} };

function setup({ capacity = 100, wall = WALL as number | null, boot = 3 } = {}) {
	const time = new FakeTime({ ticks: 1_000, wall });
	const sensor = new ScriptedSensor();
	const log = recordingLog();
	const failures: string[] = [];
	const telemetry = new Telemetry({
		sensor, clock: time, timers: time, log, boot, capacity,
		telemetryTopic: TELEMETRY, syncTopic: SYNC,
		onSendFailed: detail => { failures.push(detail); },
	});
	let sessions = 0;
	const session = () => new FakeSession({ clientId: "node-1", keepalive: 60, will: { topic: "s", payload: "", retain: true } }, NO_EVENTS, sessions++);
	return { time, sensor, log, failures, telemetry, session };
}

function seqs(session: FakeSession): number[] {
	return session.on(TELEMETRY).map(payload => JSON.parse(payload).seq);
}

function sampleTimes(telemetry: Telemetry, n: number): void {
	for (let i = 0; i < n; i++)
		telemetry.sample();
}

test("telemetry: a reading is {boot, seq, ts, values} with seq from 1", () => {
	const { telemetry, session } = setup();
	const s = session();
	telemetry.attach(s);
	telemetry.sample();
	telemetry.sample();
	assert.deepEqual(s.on(TELEMETRY).map(payload => JSON.parse(payload)), [
		{ boot: 3, seq: 1, ts: WALL, values: { n: 1 } },
		{ boot: 3, seq: 2, ts: WALL, values: { n: 2 } },
	]);
	assert.equal(telemetry.seq, 2);
});

test("telemetry: readings go out unretained, each followed by the sync marker <boot>:<seq>", () => {
	const { telemetry, session } = setup();
	const s = session();
	telemetry.attach(s);
	telemetry.sample();
	telemetry.sample();
	assert.deepEqual(s.published.map(message => [message.topic, message.retain, message.topic === SYNC ? message.payload : "reading"]), [
		[TELEMETRY, false, "reading"], [SYNC, false, "3:1"],
		[TELEMETRY, false, "reading"], [SYNC, false, "3:2"],
	]);
});

test("telemetry: ts is null while the wall clock is unset, then the wall time", () => {
	const { telemetry, session, time } = setup({ wall: null });
	telemetry.sample();
	time.setWall(WALL);
	time.advance(250);
	telemetry.sample();
	const s = session();
	telemetry.attach(s);
	assert.deepEqual(s.on(TELEMETRY).map(payload => JSON.parse(payload).ts), [null, WALL + 250]);
});

test("telemetry: readings are queued while detached and nothing is published", () => {
	const { telemetry } = setup();
	sampleTimes(telemetry, 3);
	assert.equal(telemetry.queued, 3);
	assert.equal(telemetry.dropped, 0);
});

test("telemetry: a backlog is paced as batches of 8 per 50 ms turn, each ended by a marker", () => {
	const { telemetry, session, time } = setup();
	sampleTimes(telemetry, 20);
	const s = session();
	telemetry.attach(s);
	assert.deepEqual(seqs(s), [1, 2, 3, 4, 5, 6, 7, 8]);
	assert.deepEqual(s.on(SYNC), ["3:8"]);
	time.advance(49);
	assert.equal(seqs(s).length, 8, "nothing more before the turn is up");
	time.advance(1);
	assert.deepEqual(seqs(s).slice(8), [9, 10, 11, 12, 13, 14, 15, 16]);
	time.advance(50);
	assert.deepEqual(seqs(s).slice(16), [17, 18, 19, 20]);
	assert.deepEqual(s.on(SYNC), ["3:8", "3:16", "3:20"]);
	time.advance(1_000);
	assert.equal(s.published.length, 23, "the pacer stops when the backlog is empty");
	assert.equal(time.pending, 0);
});

test("telemetry: a reading taken while a backlog drains waits its turn, in order", () => {
	const { telemetry, session, time } = setup();
	sampleTimes(telemetry, 10);
	const s = session();
	telemetry.attach(s);
	telemetry.sample();
	assert.deepEqual(seqs(s), [1, 2, 3, 4, 5, 6, 7, 8]);
	time.advance(50);
	assert.deepEqual(seqs(s), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test("telemetry: a sync marker confirms the readings up to its seq", () => {
	const { telemetry, session } = setup();
	const s = session();
	telemetry.attach(s);
	sampleTimes(telemetry, 3);
	telemetry.confirm("3:2");
	assert.equal(telemetry.queued, 1);
	telemetry.confirm("3:3");
	assert.equal(telemetry.queued, 0);
});

test("telemetry: unconfirmed readings are sent again to the next session (at least once)", () => {
	const { telemetry, session } = setup();
	const first = session();
	telemetry.attach(first);
	sampleTimes(telemetry, 3);
	telemetry.confirm("3:1");
	telemetry.detach();
	const second = session();
	telemetry.attach(second);
	assert.deepEqual(seqs(second), [2, 3]);
	assert.deepEqual(second.on(SYNC), ["3:3"]);
});

const IGNORED_MARKERS: [string, string][] = [
	["another boot", "2:3"],
	["not a marker", "hello"],
	["missing seq", "3:"],
	["missing boot", ":3"],
	["three parts", "3:2:1"],
	["negative seq", "3:-1"],
	["JSON", "{\"boot\":3,\"seq\":3}"],
	["over 32 bytes", `3:${"0".repeat(40)}3`],
	["empty", ""],
];
for (const [name, payload] of IGNORED_MARKERS)
	test(`telemetry: a sync payload that is ${name} is ignored`, () => {
		const { telemetry, session } = setup();
		telemetry.attach(session());
		sampleTimes(telemetry, 3);
		telemetry.confirm(payload);
		assert.equal(telemetry.queued, 3);
	});

test("telemetry: a stale marker (lower seq than already confirmed) changes nothing", () => {
	const { telemetry, session } = setup();
	telemetry.attach(session());
	sampleTimes(telemetry, 3);
	telemetry.confirm("3:2");
	telemetry.confirm("3:1");
	assert.equal(telemetry.queued, 1);
});

test("telemetry: a marker does not confirm readings not yet sent in this session", () => {
	const { telemetry, session } = setup();
	telemetry.attach(session());
	sampleTimes(telemetry, 2);
	telemetry.detach();
	sampleTimes(telemetry, 2);
	telemetry.confirm("3:4");
	assert.equal(telemetry.queued, 4);
});

test("telemetry: a full queue drops the oldest readings and counts them", () => {
	const { telemetry, session, log } = setup({ capacity: 5 });
	sampleTimes(telemetry, 8);
	assert.equal(telemetry.queued, 5);
	assert.equal(telemetry.dropped, 3);
	assert.ok(log.lines.some(line => line.includes("queue full") && line.includes("3 dropped")), log.lines.join("\n"));
	const s = session();
	telemetry.attach(s);
	assert.deepEqual(seqs(s), [4, 5, 6, 7, 8]);
});

test("telemetry: a throwing sensor is counted, consumes no seq and does not stop later readings", () => {
	const { telemetry, sensor, log } = setup();
	telemetry.sample();
	sensor.failing = true;
	telemetry.sample();
	telemetry.sample();
	sensor.failing = false;
	telemetry.sample();
	assert.equal(telemetry.sensorErrors, 2);
	assert.equal(telemetry.seq, 2);
	assert.equal(telemetry.queued, 2);
	assert.ok(log.lines.some(line => line.includes("sensor failed") && line.includes("i2c timeout")));
});

test("telemetry: a publish that throws reports the failure and loses no reading", () => {
	const { telemetry, session, failures } = setup();
	sampleTimes(telemetry, 4);
	const broken = session();
	let count = 0;
	broken.onPublish = () => (++count === 3 ? "throw" : "ok");
	telemetry.attach(broken);
	assert.equal(failures.length, 1);
	assert.match(failures[0], /^telemetry publish: .*socket write failed/);
	telemetry.detach();
	assert.equal(telemetry.queued, 4);
	const next = session();
	telemetry.attach(next);
	assert.deepEqual(seqs(next), [1, 2, 3, 4]);
});

test("telemetry: a full socket is retried on the next turn, not counted as a failure", () => {
	const { telemetry, session, failures, time } = setup();
	const s = session();
	let full = true;
	s.onPublish = () => (full ? "full" : "ok");
	telemetry.attach(s);
	sampleTimes(telemetry, 3);
	assert.deepEqual(s.published, []);
	time.advance(50);
	assert.deepEqual(s.published, [], "still full");
	full = false;
	time.advance(50);
	assert.deepEqual(seqs(s), [1, 2, 3]);
	assert.deepEqual(s.on(SYNC), ["3:3"]);
	assert.deepEqual(failures, []);
});

test("telemetry: a marker refused by a full socket is sent on the next turn", () => {
	const { telemetry, session, time } = setup();
	const s = session();
	let markerFull = true;
	s.onPublish = topic => (topic === SYNC && markerFull ? "full" : "ok");
	telemetry.attach(s);
	telemetry.sample();
	assert.deepEqual(s.on(SYNC), []);
	markerFull = false;
	time.advance(50);
	assert.deepEqual(s.on(SYNC), ["3:1"]);
	assert.deepEqual(seqs(s), [1], "the reading is not sent twice");
});

test("telemetry: every marker published names a seq, even after the queue dropped what was sent", () => {
	const { telemetry, session, time } = setup({ capacity: 1 });
	const s = session();
	let phase = 0;
	// Turn 1: the reading fits, the marker does not. Turn 2: a (large) reading does not fit, a (small) marker does.
	s.onPublish = topic => (phase === 0 ? (topic === SYNC ? "full" : "ok") : (topic === TELEMETRY ? "full" : "ok"));
	telemetry.attach(s);
	telemetry.sample();		// reading 1 sent, marker pending
	telemetry.sample();		// queue of 1: reading 1 (sent, unconfirmed) is dropped
	phase = 1;
	time.advance(50);
	for (const marker of s.on(SYNC))
		assert.match(marker, /^3:\d+$/);
});

test("telemetry: detach stops the pacer", () => {
	const { telemetry, session, time } = setup();
	sampleTimes(telemetry, 12);
	const s = session();
	telemetry.attach(s);
	telemetry.detach();
	time.advance(1_000);
	assert.equal(seqs(s).length, 8);
	assert.equal(time.pending, 0);
});

test("telemetry: attach resends everything unconfirmed even without a detach before it", () => {
	const { telemetry, session } = setup();
	telemetry.attach(session());
	sampleTimes(telemetry, 2);
	const next = session();
	telemetry.attach(next);
	assert.deepEqual(seqs(next), [1, 2]);
});
