import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "../../modules/app/connection/backoff";
import { Connection, Reason, State, describeRefusal } from "../../modules/app/connection/connection";
import type { Session } from "../../modules/app/ports";
import { FakeNetwork, FakeTime, FakeTransport, recordingLog, scriptedRandom } from "./support/fakes";

const WALL = 1_763_769_600_000;
const CONNECT_TIMEOUT = 10_000;	// ms
const ALMOST_ONE = 1 - 2 ** -53;

interface Setup {
	time?: FakeTime;
	networkUp?: boolean;
	random?: number[];
}

function setup({ time = new FakeTime({ ticks: 5_000, wall: WALL }), networkUp = true, random = [0.5] }: Setup = {}) {
	const network = new FakeNetwork(networkUp);
	const transport = new FakeTransport();
	const log = recordingLog();
	const events: string[] = [];
	const onlineSessions: Session[] = [];
	const backoff = new Backoff({ min: 1_000, max: 8_000, random: scriptedRandom(random) });
	const connection = new Connection({
		transport, network, clock: time, timers: time, log, backoff,
		session: { clientId: "node-1", keepalive: 60, will: { topic: "devices/node-1/status", payload: "{\"online\":false}", retain: true } },
		connectTimeout: CONNECT_TIMEOUT,
		listener: {
			onOnline: session => { events.push("online"); onlineSessions.push(session); },
			onOffline: reason => { events.push(`offline:${reason}`); },
			onMessage: (topic, payload) => { events.push(`message:${topic}:${payload}`); },
		},
	});
	/** The lines logged by the connection, without the prefix. */
	const transitions = () => log.lines.filter(line => line.startsWith("mqtt: ")).map(line => line.slice(6));
	return { time, network, transport, log, events, onlineSessions, backoff, connection, transitions };
}

/** Started, connected and ready. */
function online(options: Setup = {}) {
	const s = setup(options);
	s.connection.start();
	s.transport.last.ready();
	assert.equal(s.connection.state, State.Online);
	return s;
}

// --- start and preconditions

test("connection: a new connection is idle and has no reason yet", () => {
	const { connection, transport } = setup();
	assert.equal(connection.state, State.Idle);
	assert.equal(connection.lastReason, Reason.None);
	assert.equal(connection.lastDetail, "");
	assert.equal(connection.reconnects, 0);
	assert.equal(transport.opens, 0);
});

test("connection: the constructor registers for network changes", () => {
	const { network } = setup();
	assert.equal(network.listeners, 1);
});

test("connection: start with network and clock opens a session with the given options", () => {
	const { connection, transport, transitions } = setup();
	connection.start();
	assert.equal(connection.state, State.Connecting);
	assert.equal(transport.opens, 1);
	assert.equal(transport.last.options.clientId, "node-1");
	assert.deepEqual(transport.last.options.will, { topic: "devices/node-1/status", payload: "{\"online\":false}", retain: true });
	assert.deepEqual(transitions(), ["idle -> connecting"]);
});

test("connection: start while the network is down waits for it and opens nothing", () => {
	const { connection, transport, time, transitions } = setup({ networkUp: false });
	connection.start();
	assert.equal(connection.state, State.WaitingForNetwork);
	time.advance(600_000);
	assert.equal(transport.opens, 0);
	assert.deepEqual(transitions(), ["idle -> waiting-for-network"]);
});

test("connection: the network coming up leaves waiting-for-network and connects", () => {
	const { connection, transport, network, transitions } = setup({ networkUp: false });
	connection.start();
	network.set(true);
	assert.equal(connection.state, State.Connecting);
	assert.equal(transport.opens, 1);
	assert.deepEqual(transitions(), ["idle -> waiting-for-network", "waiting-for-network -> connecting"]);
});

test("connection: network changes before start() do nothing", () => {
	const { connection, transport, network } = setup({ networkUp: false });
	network.set(true);
	network.set(false);
	assert.equal(connection.state, State.Idle);
	assert.equal(transport.opens, 0);
});

test("connection: start() twice opens one session", () => {
	const { connection, transport } = setup();
	connection.start();
	connection.start();
	assert.equal(transport.opens, 1);
});

test("connection: an unset wall clock waits for the clock and opens nothing", () => {
	const { connection, transport, time } = setup({ time: new FakeTime({ ticks: 5_000, wall: null }) });
	connection.start();
	assert.equal(connection.state, State.WaitingForClock);
	time.advance(10_000);
	assert.equal(transport.opens, 0);
	assert.equal(connection.state, State.WaitingForClock);
});

test("connection: waiting-for-clock polls and connects within a poll of the clock being set", () => {
	const time = new FakeTime({ ticks: 5_000, wall: null });
	const { connection, transport, transitions } = setup({ time });
	connection.start();
	time.advance(3_500);
	time.setWall(WALL);
	time.advance(499);
	assert.equal(transport.opens, 0, "not before the next poll");
	time.advance(1);
	assert.equal(transport.opens, 1);
	assert.equal(connection.state, State.Connecting);
	assert.deepEqual(transitions(), ["idle -> waiting-for-clock", "waiting-for-clock -> connecting"], "polling is not re-logged");
});

test("connection: the network is checked before the clock", () => {
	const { connection } = setup({ time: new FakeTime({ wall: null }), networkUp: false });
	connection.start();
	assert.equal(connection.state, State.WaitingForNetwork);
});

// --- connecting and online

test("connection: onReady makes it online and hands the session to the listener", () => {
	const { connection, transport, events, onlineSessions, transitions } = setup();
	connection.start();
	assert.equal(connection.session, undefined, "no session while connecting");
	transport.last.ready();
	assert.equal(connection.state, State.Online);
	assert.deepEqual(events, ["online"]);
	assert.equal(onlineSessions[0], transport.last);
	assert.equal(connection.session, transport.last);
	assert.deepEqual(transitions(), ["idle -> connecting", "connecting -> online"]);
});

test("connection: a ready session is not timed out later", () => {
	const { connection, time, transport } = online();
	assert.equal(time.pending, 0, "the connect timeout is cancelled on ready");
	time.advance(CONNECT_TIMEOUT * 10);
	assert.equal(connection.state, State.Online);
	assert.equal(transport.last.closed, false);
});

test("connection: messages reach the listener while online", () => {
	const { transport, events } = online();
	transport.last.message("devices/node-1/cmd", "{}");
	assert.deepEqual(events, ["online", "message:devices/node-1/cmd:{}"]);
});

test("connection: messages before ready are ignored", () => {
	const { connection, transport, events } = setup();
	connection.start();
	transport.last.message("devices/node-1/cmd", "{}");
	assert.deepEqual(events, []);
});

test("connection: no CONNACK within connectTimeout backs off (connect-timeout) and closes the attempt", () => {
	const { connection, transport, time, events } = setup();
	connection.start();
	time.advance(CONNECT_TIMEOUT - 1);
	assert.equal(connection.state, State.Connecting);
	time.advance(1);
	assert.equal(connection.state, State.BackingOff);
	assert.equal(connection.lastReason, Reason.ConnectTimeout);
	assert.equal(connection.lastDetail, `no CONNACK within ${CONNECT_TIMEOUT} ms`);
	assert.deepEqual(transport.last.closes, [false]);
	assert.deepEqual(events, [], "the listener hears nothing of a session that never was online");
});

test("connection: onClose before ready backs off (connect-failed) with the transport's detail", () => {
	const { connection, transport, events, transitions } = setup();
	connection.start();
	transport.last.closeByPeer("TLS: certificate verify failed");
	assert.equal(connection.state, State.BackingOff);
	assert.equal(connection.lastReason, Reason.ConnectFailed);
	assert.equal(connection.lastDetail, "TLS: certificate verify failed");
	assert.deepEqual(transport.last.closes, [], "a session that closed itself is not closed again");
	assert.deepEqual(events, []);
	assert.deepEqual(transitions().at(-1), "connecting -> backing-off (connect-failed: TLS: certificate verify failed; retry in 500 ms)");
});

test("connection: a CONNACK refusal backs off with its own reason and the broker's code", () => {
	const { connection, transport, events, transitions, time } = setup({ random: [ALMOST_ONE] });
	connection.start();
	transport.last.refuse(5);
	assert.equal(connection.state, State.BackingOff);
	assert.equal(connection.lastReason, Reason.Refused);
	assert.equal(connection.lastDetail, "code 5, not authorised");
	assert.deepEqual(transport.last.closes, [], "a refused session is over: not closed again");
	assert.deepEqual(time.pendingDelays, [999], "the connect timeout is cancelled, only the retry is scheduled");
	assert.deepEqual(events, [], "the listener hears nothing of a session that never was online");
	assert.equal(transitions().at(-1), "connecting -> backing-off (refused: code 5, not authorised; retry in 999 ms)");
});

test("connection: repeated refusals widen the backoff window to the cap and keep retrying", () => {
	const { connection, transport, time, backoff } = setup({ random: [ALMOST_ONE] });
	connection.start();
	const waits: number[] = [];
	for (let attempt = 0; attempt < 6; attempt++) {
		transport.last.refuse(4);
		waits.push(time.pendingDelays[0]);
		time.advance(time.pendingDelays[0]);
		assert.equal(connection.state, State.Connecting, "never stops retrying");
	}
	assert.deepEqual(waits, [999, 1999, 3999, 7999, 7999, 7999], "min 1000, doubling, capped at max 8000");
	assert.equal(transport.opens, 7);
	assert.equal(backoff.attempt, 6, "refusals never reset the window");
	assert.equal(connection.lastDetail, "code 4, bad user name or password");
});

test("connection: a refusal code outside MQTT 3.1.1 is still reported with its number", () => {
	assert.equal(describeRefusal(0x87), "code 135, unknown return code");
});

test("connection: a refusal from a session the core already dropped is ignored", () => {
	const { connection, transport, time } = setup();
	connection.start();
	const first = transport.last;
	time.advance(CONNECT_TIMEOUT);
	first.refuse(5);
	assert.equal(connection.lastReason, Reason.ConnectTimeout);
});

test("connection: a failed attempt's connect timeout is cancelled", () => {
	const { connection, transport, time } = setup({ random: [ALMOST_ONE] });
	connection.start();
	transport.last.closeByPeer("refused");
	assert.deepEqual(time.pendingDelays, [999], "only the retry is scheduled");
	assert.equal(connection.lastReason, Reason.ConnectFailed);
});

test("connection: transport.open throwing backs off (connect-failed) with the error", () => {
	const { connection, transport, time } = setup();
	transport.throwOnOpen = new Error("getaddrinfo ENOTFOUND");
	connection.start();
	assert.equal(connection.state, State.BackingOff);
	assert.equal(connection.lastReason, Reason.ConnectFailed);
	assert.match(connection.lastDetail, /ENOTFOUND/);
	assert.deepEqual(time.pendingDelays, [500], "no connect timeout left behind");
	time.advance(500);
	assert.equal(transport.opens, 1);
	assert.equal(connection.state, State.Connecting);
});

test("connection: backing off retries after the drawn wait, not before", () => {
	const { connection, transport, time, transitions } = setup();
	connection.start();
	transport.last.closeByPeer("refused");
	time.advance(499);
	assert.equal(transport.opens, 1);
	time.advance(1);
	assert.equal(transport.opens, 2);
	assert.equal(connection.state, State.Connecting);
	assert.equal(transitions().at(-1), "backing-off -> connecting");
});

test("connection: onClose after ready backs off (connection-lost) and tells the listener", () => {
	const { connection, transport, events, transitions } = online();
	transport.last.closeByPeer("keepalive timeout");
	assert.equal(connection.state, State.BackingOff);
	assert.equal(connection.lastReason, Reason.ConnectionLost);
	assert.equal(connection.lastDetail, "keepalive timeout");
	assert.equal(connection.session, undefined);
	assert.deepEqual(events, ["online", "offline:connection-lost"]);
	assert.equal(transitions().at(-1), "online -> backing-off (connection-lost: keepalive timeout; retry in 500 ms)");
});

test("connection: the listener's onOffline runs once per lost session", () => {
	const { transport, events } = online();
	transport.last.closeByPeer("gone");
	transport.last.closeByPeer("gone again");
	assert.deepEqual(events.filter(event => event.startsWith("offline")), ["offline:connection-lost"]);
});

// --- network changes

test("connection: network drop while online waits for the network (network-down) and makes no attempt", () => {
	const { connection, transport, network, time, events } = online();
	network.set(false);
	assert.equal(connection.state, State.WaitingForNetwork);
	assert.equal(connection.lastReason, Reason.NetworkDown);
	assert.deepEqual(transport.last.closes, [false]);
	assert.deepEqual(events, ["online", "offline:network-down"]);
	time.advance(600_000);
	assert.equal(transport.opens, 1);
	assert.equal(time.pending, 0);
});

test("connection: after a network drop while online, the network's return connects at once", () => {
	const { connection, transport, network } = online();
	network.set(false);
	network.set(true);
	assert.equal(connection.state, State.Connecting);
	assert.equal(transport.opens, 2);
});

test("connection: network drop while backing off cancels the retry until the network is back", () => {
	const { connection, transport, network, time } = setup();
	connection.start();
	transport.last.closeByPeer("refused");
	network.set(false);
	assert.equal(connection.state, State.WaitingForNetwork);
	assert.equal(connection.lastReason, Reason.NetworkDown);
	time.advance(60_000);
	assert.equal(transport.opens, 1);
	network.set(true);
	assert.equal(transport.opens, 2);
	assert.equal(connection.state, State.Connecting);
});

test("connection: network drop while connecting abandons the attempt and its timeout", () => {
	const { connection, transport, network, time, transitions } = setup();
	connection.start();
	const attempt = transport.last;
	network.set(false);
	assert.equal(connection.state, State.WaitingForNetwork);
	assert.equal(connection.lastReason, Reason.NetworkDown);
	assert.deepEqual(attempt.closes, [false]);
	const logged = transitions().length;
	time.advance(CONNECT_TIMEOUT * 2);
	assert.equal(transitions().length, logged, "no timeout fires later");
	assert.equal(connection.state, State.WaitingForNetwork);
});

test("connection: network drop while waiting for the clock stops the polling", () => {
	const { connection, network, time } = setup({ time: new FakeTime({ wall: null }) });
	connection.start();
	network.set(false);
	assert.equal(connection.state, State.WaitingForNetwork);
	assert.equal(time.pending, 0);
});

test("connection: network up while connecting or online changes nothing", () => {
	const { connection, transport, network } = setup();
	connection.start();
	network.set(true);
	assert.equal(transport.opens, 1);
	transport.last.ready();
	network.set(true);
	assert.equal(connection.state, State.Online);
	assert.equal(transport.opens, 1);
});

// --- fail and stop

test("connection: fail() while online backs off (publish-failed), closes the session and tells the listener", () => {
	const { connection, transport, events } = online();
	connection.fail("telemetry publish: Error: EPIPE");
	assert.equal(connection.state, State.BackingOff);
	assert.equal(connection.lastReason, Reason.PublishFailed);
	assert.equal(connection.lastDetail, "telemetry publish: Error: EPIPE");
	assert.deepEqual(transport.last.closes, [false]);
	assert.deepEqual(events, ["online", "offline:publish-failed"]);
});

test("connection: fail() when not online is ignored", () => {
	const { connection, transport } = setup();
	connection.start();
	connection.fail("late");
	assert.equal(connection.state, State.Connecting);
	assert.equal(connection.lastReason, Reason.None);
	assert.deepEqual(transport.last.closes, []);
});

test("connection: stop() while online runs the farewell, then closes gracefully", () => {
	const { connection, transport, events, transitions } = online();
	const session = transport.last;
	const order: string[] = [];
	const close = session.close.bind(session);
	session.close = graceful => { order.push(`close:${graceful}`); close(graceful); };
	connection.stop(farewell => {
		assert.equal(farewell, session);
		order.push("farewell");
		farewell.publish("devices/node-1/status", "{\"online\":false}", true);
	});
	assert.deepEqual(order, ["farewell", "close:true"]);
	assert.deepEqual(session.on("devices/node-1/status"), ["{\"online\":false}"]);
	assert.equal(connection.state, State.Stopped);
	assert.equal(connection.lastReason, Reason.Shutdown);
	assert.equal(connection.session, undefined);
	assert.ok(!events.some(event => event.startsWith("message")));
	assert.equal(transitions().at(-1), "online -> stopped (shutdown)");
});

test("connection: a throwing farewell still stops, closing without DISCONNECT so the will fires", () => {
	const { connection, transport } = online();
	connection.stop(() => { throw new Error("session closed"); });
	assert.equal(connection.state, State.Stopped);
	assert.deepEqual(transport.last.closes, [false]);
});

test("connection: a farewell the socket could not take closes without DISCONNECT", () => {
	const { connection, transport } = online();
	connection.stop(() => false);
	assert.equal(connection.state, State.Stopped);
	assert.deepEqual(transport.last.closes, [false]);
});

test("connection: stop() while backing off runs no farewell and cancels the retry", () => {
	const { connection, transport, time } = setup();
	connection.start();
	transport.last.closeByPeer("refused");
	let farewells = 0;
	connection.stop(() => { farewells++; });
	assert.equal(farewells, 0);
	assert.equal(connection.state, State.Stopped);
	time.advance(600_000);
	assert.equal(transport.opens, 1);
	assert.equal(time.pending, 0);
});

test("connection: stop() while connecting closes the attempt", () => {
	const { connection, transport, time } = setup();
	connection.start();
	connection.stop();
	assert.deepEqual(transport.last.closes, [true]);
	time.advance(CONNECT_TIMEOUT);
	assert.equal(connection.state, State.Stopped);
});

test("connection: stopped is final: stop, start, network and late callbacks change nothing", () => {
	const { connection, transport, network, time, events, transitions } = online();
	const session = transport.last;
	connection.stop();
	const logged = transitions().length;
	connection.stop();
	connection.start();
	network.set(false);
	network.set(true);
	session.closeByPeer("late");
	session.message("devices/node-1/cmd", "{}");
	connection.fail("late");
	time.advance(600_000);
	assert.equal(connection.state, State.Stopped);
	assert.equal(transport.opens, 1);
	assert.equal(transitions().length, logged);
	assert.deepEqual(events, ["online"]);
});

// --- stale sessions

test("connection: a timed-out session's late callbacks are ignored", () => {
	const { connection, transport, time, events } = setup();
	connection.start();
	const stale = transport.last;
	time.advance(CONNECT_TIMEOUT);
	stale.ready();
	assert.equal(connection.state, State.BackingOff);
	time.advance(500);
	assert.equal(transport.opens, 2);
	stale.ready();
	stale.message("devices/node-1/cmd", "{}");
	stale.closeByPeer("late");
	assert.equal(connection.state, State.Connecting);
	assert.equal(connection.lastReason, Reason.ConnectTimeout);
	assert.deepEqual(events, []);
	transport.last.ready();
	assert.equal(connection.session, transport.last);
});

test("connection: a lost session's late callbacks are ignored once the next is online", () => {
	const { connection, transport, time, events } = online();
	const old = transport.last;
	connection.fail("broken");
	time.advance(500);
	transport.last.ready();
	old.message("devices/node-1/cmd", "old");
	old.closeByPeer("late");
	assert.equal(connection.state, State.Online);
	assert.equal(connection.session, transport.last);
	assert.deepEqual(events, ["online", "offline:publish-failed", "online"]);
});

// --- backoff across attempts

test("connection: the backoff window grows across failed attempts", () => {
	const { connection, transport, time, transitions } = setup({ random: [ALMOST_ONE] });
	connection.start();
	const waits: string[] = [];
	for (const wait of [999, 1_999, 3_999, 7_999, 7_999]) {
		transport.last.closeByPeer("refused");
		waits.push(transitions().at(-1)!.replace(/.*retry in /, ""));
		time.advance(wait);
		assert.equal(connection.state, State.Connecting);
	}
	assert.deepEqual(waits, ["999 ms)", "1999 ms)", "3999 ms)", "7999 ms)", "7999 ms)"]);
});

/** Fails `failures` attempts, then stays online `ms`, then loses the session: returns the wait drawn. */
function waitAfterSession(failures: number, ms: number): number {
	const { connection, transport, time, backoff } = setup({ random: [ALMOST_ONE] });
	connection.start();
	for (let i = 0; i < failures; i++) {
		transport.last.closeByPeer("refused");
		time.advance(10_000);
	}
	transport.last.ready();
	assert.equal(backoff.attempt, failures, "being online does not reset by itself");
	time.advance(ms);
	transport.last.closeByPeer("dropped by broker");
	assert.equal(connection.state, State.BackingOff);
	assert.equal(time.pending, 1);
	return time.pendingDelays[0];
}

test("connection: a session lost before 30 s online does not reset the backoff window", () => {
	assert.equal(waitAfterSession(3, 29_999), 7_999);
});

test("connection: a session lost after 30 s online resets the backoff window", () => {
	assert.equal(waitAfterSession(3, 30_000), 999);
});

test("connection: a stable session lost to the network resets the window for the attempts after it", () => {
	const { connection, transport, time, network } = setup({ random: [ALMOST_ONE] });
	connection.start();
	for (let i = 0; i < 3; i++) {
		transport.last.closeByPeer("refused");
		time.advance(10_000);
	}
	transport.last.ready();
	time.advance(60_000);
	network.set(false);
	network.set(true);
	transport.last.closeByPeer("refused");
	assert.deepEqual(time.pendingDelays, [999]);
});

// --- counters and reasons

test("connection: reconnects counts sessions that became ready after the first", () => {
	const { connection, transport, time } = online();
	assert.equal(connection.reconnects, 0);
	for (const expected of [1, 2]) {
		transport.last.closeByPeer("dropped");
		time.advance(10_000);
		transport.last.ready();
		assert.equal(connection.reconnects, expected);
	}
});

test("connection: failed attempts are not reconnects", () => {
	const { connection, transport, time } = online();
	transport.last.closeByPeer("dropped");
	time.advance(10_000);
	transport.last.closeByPeer("refused");
	time.advance(10_000);
	assert.equal(connection.reconnects, 0);
});

test("connection: reconnects counts even when the first session was ready at ticks 0", () => {
	const { connection, transport, time } = online({ time: new FakeTime({ ticks: 0, wall: WALL }) });
	transport.last.closeByPeer("dropped");
	time.advance(10_000);
	transport.last.ready();
	assert.equal(connection.reconnects, 1);
});

test("connection: lastReason and lastDetail follow the most recent end", () => {
	const { connection, transport, time } = online();
	transport.last.closeByPeer("peer reset");
	assert.deepEqual([connection.lastReason, connection.lastDetail], [Reason.ConnectionLost, "peer reset"]);
	time.advance(500);				// the retry opens
	time.advance(CONNECT_TIMEOUT);	// and gets no CONNACK
	assert.equal(connection.lastReason, Reason.ConnectTimeout);
	assert.equal(connection.state, State.BackingOff);
});

test("connection: lastReason survives a successful reconnect (for diagnostics)", () => {
	const { connection, transport, time } = online();
	transport.last.closeByPeer("peer reset");
	time.advance(10_000);
	transport.last.ready();
	assert.equal(connection.lastReason, Reason.ConnectionLost);
	assert.equal(connection.lastDetail, "peer reset");
});

test("connection: each transition is logged exactly once, as mqtt: <from> -> <to> (<reason>)", () => {
	const time = new FakeTime({ ticks: 5_000, wall: null });
	const { connection, transport, network, transitions } = setup({ time, networkUp: false });
	connection.start();
	network.set(true);
	time.advance(2_500);
	time.setWall(WALL);
	time.advance(1_000);
	time.advance(CONNECT_TIMEOUT);
	time.advance(500);
	transport.last.ready();
	network.set(false);
	network.set(true);
	transport.last.closeByPeer("TLS alert");
	time.advance(1_000);
	transport.last.ready();
	connection.fail("EPIPE");
	connection.stop();
	assert.deepEqual(transitions(), [
		"idle -> waiting-for-network",
		"waiting-for-network -> waiting-for-clock",
		"waiting-for-clock -> connecting",
		"connecting -> backing-off (connect-timeout: no CONNACK within 10000 ms; retry in 500 ms)",
		"backing-off -> connecting",
		"connecting -> online",
		"online -> waiting-for-network (network-down: link lost)",
		"waiting-for-network -> connecting",
		"connecting -> backing-off (connect-failed: TLS alert; retry in 1000 ms)",
		"backing-off -> connecting",
		"connecting -> online",
		"online -> backing-off (publish-failed: EPIPE; retry in 2000 ms)",
		"backing-off -> stopped (shutdown)",
	]);
});
