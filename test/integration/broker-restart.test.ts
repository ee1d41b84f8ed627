/*
 * Broker restart mid-run: readings made while the broker is down are queued, sent after
 * the reconnect, and the consumer (a persistent session, so it misses nothing across
 * the restart) ends up with every seq from 1 to the last, de-duplicated by (boot, seq).
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { Reason, State } from "../../modules/app/connection/connection";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { distinctSeqs, gaps, type Watcher } from "../../tools/harness/watcher";

describe("broker restart", () => {
	const fixture = new Fixture();
	let broker: Broker;
	let node: NodeDevice;
	let watcher: Watcher;
	const ID = "it-restart";
	const TELEMETRY = `devices/${ID}/telemetry`;
	const STATUS = `devices/${ID}/status`;

	before(async () => {
		broker = await fixture.broker();
		watcher = await fixture.watcher({ port: broker.port, topics: [TELEMETRY, STATUS], clientId: "it-restart-watcher", persistent: true });
		node = fixture.device(broker.port, { deviceId: ID, backoffMin: 200, backoffMax: 1_000 });
		node.device.start();
	});
	after(() => fixture.cleanup());

	it("is survived with no reading lost", async () => {
		const { device } = node;
		await waitFor("three readings before the restart", () => distinctSeqs(watcher.readings(TELEMETRY), device.boot).length >= 3);
		const seqBefore = device.telemetry.seq;

		// Down for 3.5 s: about three readings are made with no broker to take them.
		await broker.restart(3_500);
		const seqAfterDowntime = device.telemetry.seq;
		assert.ok(seqAfterDowntime > seqBefore, `readings were made while the broker was down (${seqBefore} -> ${seqAfterDowntime})`);
		assert.ok(node.log.lines.some(line => line.includes(`online -> backing-off (${Reason.ConnectionLost}`)), "the session was lost, not closed");

		await waitFor("the device back online", () => device.connection.state === State.Online && device.connection.reconnects >= 1);
		const target = seqAfterDowntime + 2;
		await waitFor(`readings up to seq ${target}`, () => distinctSeqs(watcher.readings(TELEMETRY), device.boot).at(-1)! >= target, 20_000);
		await waitFor("the queue drained", () => device.telemetry.queued <= 1);

		const seqs = distinctSeqs(watcher.readings(TELEMETRY), device.boot);
		assert.deepEqual(gaps(seqs), [], `no seq missing from 1..${seqs.at(-1)}; got ${seqs.join(",")}`);
		for (let seq = seqBefore + 1; seq <= seqAfterDowntime; seq++)
			assert.ok(seqs.includes(seq), `reading ${seq}, made while the broker was down, arrived`);
		assert.equal(device.telemetry.dropped, 0);
		assert.ok(watcher.on(STATUS).length >= 2, "a birth after each connect");
	});
});
