/*
 * Happy path against a real mosquitto over TLS: retained birth, ordered readings,
 * retained offline status on a clean stop().
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { State } from "../../modules/app/connection/connection";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";

describe("happy path", () => {
	const fixture = new Fixture();
	let broker: Broker;
	let node: NodeDevice;
	let early: Watcher;
	const ID = "it-happy";
	const STATUS = `devices/${ID}/status`;
	const TELEMETRY = `devices/${ID}/telemetry`;

	before(async () => {
		broker = await fixture.broker();
		early = await fixture.watcher({ port: broker.port, topics: [STATUS, TELEMETRY] });
		node = fixture.device(broker.port, { deviceId: ID });
		node.device.start();
	});
	after(() => fixture.cleanup());

	it("goes online and publishes a retained birth a late subscriber receives", async () => {
		await waitFor("device online", () => node.device.connection.state === State.Online);
		const late = await fixture.watcher({ port: broker.port, topics: [STATUS] });
		const birth = await late.waitFor(STATUS);
		assert.equal(birth.retain, true, "birth must be retained");
		assert.deepEqual(parse(birth.payload), { online: true, fw: "1.0.0", boot: 1, reason: "power-on" });
	});

	it("publishes readings in order with seq 1, 2, 3, boot, ts and values", async () => {
		const readings = await waitFor("three readings", () => {
			const all = early.readings(TELEMETRY);
			return all.length >= 3 && all;
		});
		assert.deepEqual(readings.slice(0, 3).map(reading => reading.seq), [1, 2, 3]);
		for (const reading of readings) {
			assert.equal(reading.boot, node.device.boot);
			assert.equal(typeof reading.ts, "number");
			assert.ok(Math.abs((reading.ts as number) - Date.now()) < 60_000, "ts is the wall clock");
			assert.equal(typeof reading.values.temperature, "number");
			assert.equal(typeof reading.values.humidity, "number");
		}
		const live = early.on(TELEMETRY);
		assert.ok(live.every(message => !message.retain), "readings are not retained");
	});

	it("stop() publishes a retained {\"online\":false}", async () => {
		node.device.stop();
		assert.equal(node.device.connection.state, State.Stopped);
		await early.waitFor(STATUS, payload => JSON.stringify(payload) === '{"online":false}');
		const late = await fixture.watcher({ port: broker.port, topics: [STATUS] });
		const status = await late.waitFor(STATUS);
		assert.equal(status.retain, true);
		assert.deepEqual(parse(status.payload), { online: false });
		assert.equal(node.device.connection.lastReason, "shutdown");
	});
});
