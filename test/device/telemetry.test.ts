/*
 * The real firmware in the Moddable Linux simulator, against mosquitto over TLS:
 * retained birth, readings in order, a broker restart survived with no seq gap, and
 * the TLS refusals (another CA, expired, wrong name) on XS's own TLS stack.
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { makeExpiredServer, makeRogueServer, makeWrongNameServer } from "../../tools/pki";
import { startProxy, type TcpProxy } from "../../tools/harness/tcp-proxy";
import { waitFor } from "../../tools/harness/wait";
import { distinctSeqs, gaps, parse } from "../../tools/harness/watcher";
import { sdkSkip, simulatedDevice } from "./support";

describe("simulator: secure telemetry", () => {
	// A persistent watcher: what the device publishes while the broker restarts is not missed.
	const sim = simulatedDevice("sim-telemetry", { watcher: { clientId: "sim-telemetry-watcher", persistent: true } });
	const TELEMETRY = sim.topic("telemetry");
	const STATUS = sim.topic("status");

	it("publishes a retained birth and readings in order, and survives a broker restart", { skip: sdkSkip }, async () => {
		const { simulator, watcher, broker } = sim;
		const birth = await watcher.waitFor(STATUS, payload => (payload as { online?: boolean }).online === true, 60_000);
		const { boot, fw } = parse(birth.payload) as { boot: number; fw: string };
		assert.equal(fw, "1.0.0");
		assert.ok(Number.isInteger(boot) && boot >= 1);

		await waitFor("three readings", () => distinctSeqs(watcher.readings(TELEMETRY), boot).length >= 3, 30_000);
		const first = watcher.readings(TELEMETRY).slice(0, 3);
		assert.deepEqual(first.map(reading => reading.seq), [1, 2, 3]);
		for (const reading of first) {
			assert.equal(reading.boot, boot);
			assert.equal(typeof reading.ts, "number");
			assert.equal(typeof reading.values.temperature, "number");
		}

		const before = distinctSeqs(watcher.readings(TELEMETRY), boot).at(-1)!;
		await broker.restart(3_000);
		const target = before + 6;
		await waitFor(`readings up to seq ${target} after the restart`, () => distinctSeqs(watcher.readings(TELEMETRY), boot).at(-1)! >= target, 60_000);
		const seqs = distinctSeqs(watcher.readings(TELEMETRY), boot);
		assert.deepEqual(gaps(seqs), [], `no seq missing from 1..${seqs.at(-1)}: ${seqs.join(",")}`);
		assert.ok(simulator.lines.some(line => line.includes("online -> backing-off (connection-lost")), simulator.lines.join("\n"));
		assert.ok(simulator.lines.filter(line => line.includes("connecting -> online")).length >= 2, "online again after the restart");
		await simulator.stop();

		// The simulator ended without DISCONNECT: the broker published the retained will.
		await watcher.waitFor(STATUS, payload => (payload as { online?: boolean }).online === false, 15_000);

		// The boot counter lives in Preference: the next launch is the next boot.
		const again = sim.fixture.simulate(sim.library);
		await watcher.waitFor(STATUS, payload => (payload as { boot?: number }).boot === boot + 1, 60_000);
		await again.stop();
	});

	describe("refuses a broker it must not trust", () => {
		// One build dials a relay; each case points the relay at an untrusted broker.
		let relay: TcpProxy;
		let refusing: string;
		before(async () => {
			if (sdkSkip)
				return;
			relay = await startProxy(sim.broker.port);
			sim.fixture.onCleanup(() => relay.close());
			refusing = await sim.fixture.build(relay.port, "sim-refuse");
		});
		// What XS's TLS stack traces for each refusal: the test checks the reason, not
		// only that the connection failed.
		const cases: [string, (dir: string) => string, RegExp][] = [
			["a server signed by another CA", makeRogueServer, /certificate: auth err/],
			["an expired server certificate", makeExpiredServer, /date validation failed/],
			["a certificate for another name", makeWrongNameServer, /subjectAltName match failed for localhost/],
		];
		it("reaches the trusted broker through the same relay (control)", { skip: sdkSkip }, async () => {
			relay.retarget(sim.broker.port);
			const simulator = sim.fixture.simulate(refusing);
			await waitFor("online through the relay", () => simulator.lines.some(line => line.includes("connecting -> online")), 60_000);
			await simulator.stop();
		});
		for (const [title, make, reason] of cases)
			it(title, { skip: sdkSkip }, async () => {
				const untrusted = await sim.fixture.broker({ certName: make(sim.fixture.pkiDir) });
				const observer = await sim.fixture.watcher({ port: untrusted.port, topics: ["devices/#"], insecure: true });
				relay.retarget(untrusted.port);
				const simulator = sim.fixture.simulate(refusing);
				await waitFor("two refused attempts", () => simulator.lines.filter(line => line.includes("connecting -> backing-off (connect-failed")).length >= 2, 60_000);
				assert.ok(!simulator.lines.some(line => line.includes("-> online")), simulator.lines.join("\n"));
				assert.ok(simulator.lines.some(line => reason.test(line)), `traced ${reason}:\n${simulator.lines.join("\n")}`);
				assert.deepEqual(observer.received, [], "nothing reached the untrusted broker");
				await simulator.stop();
			});
	});
});
