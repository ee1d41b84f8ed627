import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, type RawConfig } from "../../modules/app/config/config";
import { Reason, State } from "../../modules/app/connection/connection";
import { Device } from "../../modules/app/device";
import { FIRMWARE_VERSION } from "../../modules/app/version";
import { FakeNetwork, FakeSession, FakeTime, FakeTransport, MemoryStorage, ScriptedSensor, recordingLog, scriptedRandom } from "./support/fakes";

const WALL = 1_763_769_600_000;
const INTERVAL = 1_000;	// ms
const STATUS = "devices/node-1/status";
const TELEMETRY = "devices/node-1/telemetry";
const COMMAND = "devices/node-1/cmd";
const SYNC = "devices/node-1/sync";
const GPIO_SET = "devices/node-1/gpio/+/set";
const OFFLINE = "{\"online\":false}";

interface Setup {
	raw?: RawConfig;
	storage?: MemoryStorage;
	wall?: number | null;
	networkUp?: boolean;
	bootReason?: string;
}

function setup({ raw = {}, storage = new MemoryStorage(), wall = WALL, networkUp = true, bootReason }: Setup = {}) {
	const { config, errors } = loadConfig({
		mqttHost: "broker.example.com", deviceId: "node-1", interval: String(INTERVAL), queueSize: "50",
		backoffMin: "1000", backoffMax: "8000", connectTimeout: "10000", ...raw,
	}, { defaultDeviceId: "unused", wifiRequired: false });
	assert.deepEqual(errors, []);
	const time = new FakeTime({ ticks: 5_000, wall });
	const network = new FakeNetwork(networkUp);
	const transport = new FakeTransport();
	const sensor = new ScriptedSensor();
	const log = recordingLog();
	const device = new Device({ config, transport, network, clock: time, timers: time, log, storage, sensor, random: scriptedRandom([0.5]), bootReason });
	return { device, time, network, transport, sensor, log, storage };
}

/** Started and online on the first session. */
function online(options: Setup = {}) {
	const s = setup(options);
	s.device.start();
	s.transport.last.ready();
	assert.equal(s.device.connection.state, State.Online);
	return s;
}

/** Telemetry's own sync markers, without the command channel's "cmd:" markers. */
function markers(session: FakeSession): string[] {
	return session.on(SYNC).filter(payload => !payload.startsWith("cmd:"));
}

function seqs(session: FakeSession): number[] {
	return session.on(TELEMETRY).map(payload => JSON.parse(payload).seq);
}

/** Loses the current session, waits out the backoff and brings the next session online. */
function reconnect(s: ReturnType<typeof setup>): FakeSession {
	const opens = s.transport.opens;
	s.transport.last.closeByPeer("keepalive timeout");
	for (let waited = 0; s.transport.opens === opens; waited += 10) {
		assert.ok(waited < 60_000, "no retry within a minute");
		s.time.advance(10);
	}
	s.transport.last.ready();
	return s.transport.last;
}

// --- boot counter

test("device: the first boot is 1 and is persisted", () => {
	const { device, storage } = setup();
	assert.equal(device.boot, 1);
	assert.equal(storage.get("boot"), 1);
});

test("device: the boot counter is read, incremented and persisted", () => {
	const storage = new MemoryStorage({ boot: 41 });
	const { device } = setup({ storage });
	assert.equal(device.boot, 42);
	assert.equal(storage.get("boot"), 42);
	assert.equal(setup({ storage }).device.boot, 43);
});

for (const damaged of ["garbage", -3, 2.5, NaN])
	test(`device: a damaged stored boot counter (${JSON.stringify(damaged) ?? String(damaged)}) restarts at 1`, () => {
		const storage = new MemoryStorage({ boot: damaged });
		assert.equal(setup({ storage }).device.boot, 1);
		assert.equal(storage.get("boot"), 1);
	});

// --- sampling

test("device: sampling starts with start(), once per interval, seq from 1 with the boot", () => {
	const { device, time, sensor, transport } = online({ storage: new MemoryStorage({ boot: 6 }) });
	assert.equal(sensor.reads, 0);
	time.advance(INTERVAL * 3);
	assert.equal(sensor.reads, 3);
	assert.deepEqual(transport.last.on(TELEMETRY).map(payload => [JSON.parse(payload).boot, JSON.parse(payload).seq]), [[7, 1], [7, 2], [7, 3]]);
	assert.equal(device.telemetry.seq, 3);
});

test("device: nothing is sampled before start()", () => {
	const { time, sensor } = setup();
	time.advance(INTERVAL * 5);
	assert.equal(sensor.reads, 0);
});

test("device: ts is null while the clock is unset, then a number", () => {
	const { device, time, transport } = setup({ wall: null });
	device.start();
	time.advance(INTERVAL * 2);
	assert.equal(transport.opens, 0, "no connection before the clock is set");
	time.setWall(WALL);
	time.advance(INTERVAL);		// the clock poll connects; reading 3 is taken
	transport.last.ready();
	const stamps = transport.last.on(TELEMETRY).map(payload => JSON.parse(payload).ts);
	assert.deepEqual(stamps.slice(0, 2), [null, null]);
	assert.equal(typeof stamps[2], "number");
	assert.ok(stamps[2] >= WALL);
});

test("device: a throwing sensor is counted and sampling goes on", () => {
	const { device, time, sensor, transport } = online();
	time.advance(INTERVAL);
	sensor.failing = true;
	time.advance(INTERVAL * 2);
	sensor.failing = false;
	time.advance(INTERVAL);
	assert.equal(device.telemetry.sensorErrors, 2);
	assert.equal(sensor.reads, 4);
	assert.deepEqual(seqs(transport.last), [1, 2]);
});

test("device: setInterval changes the period; the next reading comes one new period later", () => {
	const { device, time, sensor } = online();
	time.advance(INTERVAL * 2);
	time.advance(300);
	device.setInterval(5_000);
	assert.equal(device.interval, 5_000);
	time.advance(4_999);
	assert.equal(sensor.reads, 2, "the old period no longer applies");
	time.advance(1);
	assert.equal(sensor.reads, 3);
	time.advance(10_000);
	assert.equal(sensor.reads, 5);
});

test("device: setInterval before start() only records the period", () => {
	const { device, time, sensor } = setup();
	device.setInterval(2_000);
	time.advance(10_000);
	assert.equal(sensor.reads, 0);
	device.start();
	time.advance(4_000);
	assert.equal(sensor.reads, 2);
});

// --- session setup

test("device: the Last Will is the retained {\"online\":false} on the status topic", () => {
	const { device, transport } = setup();
	device.start();
	const { options } = transport.last;
	assert.deepEqual(options.will, { topic: STATUS, payload: OFFLINE, retain: true });
	assert.equal(options.clientId, "node-1");
	assert.equal(options.keepalive, 60);
	assert.equal(options.user, undefined);
	assert.equal(options.password, undefined);
});

test("device: MQTT credentials are passed to the session when configured", () => {
	const { device, transport } = setup({ raw: { mqttUser: "node", mqttPassword: "pw" } });
	device.start();
	assert.equal(transport.last.options.user, "node");
	assert.equal(transport.last.options.password, "pw");
});

test("device: the birth is retained on status with online, fw, boot and reason", () => {
	const { transport } = online({ storage: new MemoryStorage({ boot: 2 }) });
	const birth = transport.last.published.find(message => message.topic === STATUS)!;
	assert.equal(birth.retain, true);
	assert.deepEqual(JSON.parse(birth.payload), { online: true, fw: FIRMWARE_VERSION, boot: 3, reason: "power-on" });
});

test("device: the birth carries the given boot reason", () => {
	const { transport } = online({ bootReason: "ota" });
	assert.equal(JSON.parse(transport.last.on(STATUS)[0]).reason, "ota");
});

test("device: subscriptions, retained-command deletion and settle marker come before the birth", () => {
	const { transport } = online();
	const order = transport.last.published.map(message => message.topic);
	const birth = order.indexOf(STATUS);
	assert.ok(birth > order.indexOf(COMMAND) && birth > order.indexOf(SYNC), order.join(","));
	assert.deepEqual(transport.last.subscriptions, [COMMAND, GPIO_SET, SYNC]);
});

test("device: birth and subscriptions to cmd and sync on every reconnect", () => {
	const s = online();
	reconnect(s);
	reconnect(s);
	assert.equal(s.transport.opens, 3);
	for (const session of s.transport.sessions) {
		assert.deepEqual(session.subscriptions, [COMMAND, GPIO_SET, SYNC], `session ${session.index}`);
		assert.equal(session.on(STATUS).length, 1, `session ${session.index}`);
		assert.equal(JSON.parse(session.on(STATUS)[0]).online, true);
	}
	assert.equal(s.device.connection.reconnects, 2);
});

test("device: a birth refused by a full socket ends the session (publish-failed)", () => {
	const { device, transport } = setup();
	device.start();
	transport.last.onPublish = () => "full";
	transport.last.ready();
	assert.equal(device.connection.state, State.BackingOff);
	assert.equal(device.connection.lastReason, Reason.PublishFailed);
	assert.match(device.connection.lastDetail, /birth/);
	assert.deepEqual(transport.last.subscriptions, [COMMAND, GPIO_SET, SYNC], "subscribed before the birth");
});

// --- offline queue through the device

test("device: readings taken offline are flushed in order after reconnect, then the sync marker", () => {
	const s = online();
	s.time.advance(INTERVAL);
	s.network.set(false);
	s.time.advance(INTERVAL * 3);
	assert.equal(s.device.telemetry.queued, 4, "reading 1 is unconfirmed, 2..4 unsent");
	s.network.set(true);
	s.transport.last.ready();
	const session = s.transport.last;
	const telemetryOnly = session.published.filter(message => message.topic === STATUS || message.topic === TELEMETRY || (message.topic === SYNC && !message.payload.startsWith("cmd:")));
	assert.deepEqual(telemetryOnly.map(message => message.topic === TELEMETRY ? JSON.parse(message.payload).seq : message.payload), [
		JSON.stringify({ online: true, fw: FIRMWARE_VERSION, boot: 1, reason: "power-on" }),
		1, 2, 3, 4, "1:4",
	]);
});

test("device: the sync marker echoed on the sync topic removes delivered readings", () => {
	const s = online();
	s.time.advance(INTERVAL * 3);
	s.transport.last.message(SYNC, "1:2");
	assert.equal(s.device.telemetry.queued, 1);
	s.transport.last.message(SYNC, "1:3");
	assert.equal(s.device.telemetry.queued, 0);
});

test("device: a marker on the command topic is not taken as a confirmation", () => {
	const s = online();
	s.time.advance(INTERVAL * 3);
	s.transport.last.message(COMMAND, "1:3");
	assert.equal(s.device.telemetry.queued, 3);
});

test("device: unconfirmed readings are re-sent on the next session, confirmed ones are not", () => {
	const s = online();
	s.time.advance(INTERVAL * 3);
	s.transport.last.message(SYNC, "1:1");
	const next = reconnect(s);
	assert.deepEqual(seqs(next), [2, 3]);
	assert.deepEqual(markers(next), ["1:3"]);
});

test("device: a stale or malformed sync payload is ignored", () => {
	const s = online();
	s.time.advance(INTERVAL * 3);
	for (const payload of ["0:3", "2:3", "1:x", "garbage", "", "1:3 "])
		s.transport.last.message(SYNC, payload);
	assert.equal(s.device.telemetry.queued, 3);
});

test("device: a long outage overflows the queue: oldest dropped and counted", () => {
	const s = online({ raw: { queueSize: "5" } });
	s.network.set(false);
	s.time.advance(INTERVAL * 8);
	assert.equal(s.device.telemetry.queued, 5);
	assert.equal(s.device.telemetry.dropped, 3);
	s.network.set(true);
	s.transport.last.ready();
	assert.deepEqual(seqs(s.transport.last), [4, 5, 6, 7, 8]);
});

test("device: a long backlog is paced in batches of 8 per 50 ms", () => {
	const s = setup({ networkUp: false });
	s.device.start();
	s.time.advance(INTERVAL * 20);
	s.network.set(true);
	s.transport.last.ready();
	const session = s.transport.last;
	assert.equal(seqs(session).length, 8);
	s.time.advance(50);
	assert.equal(seqs(session).length, 16);
	s.time.advance(50);
	assert.deepEqual(seqs(session), Array.from({ length: 20 }, (_, i) => i + 1));
	assert.deepEqual(markers(session), ["1:8", "1:16", "1:20"]);
});

test("device: a publish throwing during a flush ends the session (publish-failed) and loses no reading", () => {
	const s = setup({ networkUp: false });
	s.device.start();
	s.time.advance(INTERVAL * 5);
	s.network.set(true);
	const broken = s.transport.last;
	let readings = 0;
	broken.onPublish = topic => (topic === TELEMETRY && ++readings === 3 ? "throw" : "ok");
	broken.ready();
	assert.equal(s.device.connection.state, State.BackingOff);
	assert.equal(s.device.connection.lastReason, Reason.PublishFailed);
	assert.match(s.device.connection.lastDetail, /socket write failed/);
	assert.deepEqual(broken.closes, [false]);
	assert.equal(s.device.telemetry.queued, 5);
	s.time.advance(500);
	s.transport.last.ready();
	assert.deepEqual(seqs(s.transport.last), [1, 2, 3, 4, 5]);
});

test("device: going offline is logged with the reason and the readings kept", () => {
	const s = online();
	s.time.advance(INTERVAL * 2);
	s.transport.last.closeByPeer("peer reset");
	assert.ok(s.log.lines.includes("device: offline (connection-lost), 2 readings kept"), s.log.lines.join("\n"));
});

// --- commands

test("device: a message on the command topic is answered on cmd/result; another device's is not", () => {
	const s = online();
	const session = s.transport.last;
	session.message(SYNC, "cmd:1:1");	// the channel's settle marker comes back
	session.message(COMMAND, "{\"id\":\"a\",\"op\":\"status\"}");
	session.message("devices/other/cmd", "{\"id\":\"b\",\"op\":\"status\"}");
	const results = session.on("devices/node-1/cmd/result").map(payload => JSON.parse(payload));
	assert.deepEqual(results.map(result => [result.id, result.ok]), [["a", true]]);
});

// --- stop

test("device: stop() publishes the retained offline status and closes gracefully", () => {
	const s = online();
	const session = s.transport.last;
	s.device.stop();
	const last = session.published.at(-1)!;
	assert.deepEqual(last, { topic: STATUS, payload: OFFLINE, retain: true });
	assert.deepEqual(session.closes, [true]);
	assert.equal(s.device.connection.state, State.Stopped);
});

test("device: stop() stops sampling and reconnecting", () => {
	const s = online();
	s.time.advance(INTERVAL);
	s.device.stop();
	const reads = s.sensor.reads;
	s.time.advance(INTERVAL * 100);
	assert.equal(s.sensor.reads, reads);
	assert.equal(s.transport.opens, 1);
	assert.equal(s.time.pending, 0);
});

test("device: stop() while offline publishes nothing and still stops sampling", () => {
	const s = setup({ networkUp: false });
	s.device.start();
	s.device.stop();
	s.time.advance(INTERVAL * 10);
	assert.equal(s.sensor.reads, 0);
	assert.equal(s.transport.opens, 0);
	assert.equal(s.device.connection.state, State.Stopped);
});
