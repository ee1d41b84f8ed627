/*
 * npm start's broker supervision (tools/broker/supervise.ts) against a real mosquitto:
 * a broker killed from outside is reported once and serves TLS again on the same port;
 * one that keeps dying is given up on, once.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import { BrokerSupervisor } from "../../tools/broker/supervise";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { waitForTls } from "../../tools/net";

async function supervised(fixture: Fixture, maxRestarts: number) {
	const said: string[] = [];
	const gaveUp: string[] = [];
	const supervisor = new BrokerSupervisor({ say: line => said.push(line), giveUp: reason => gaveUp.push(reason), maxRestarts });
	const broker: Broker = await fixture.broker({ onExit: supervisor.exited });
	supervisor.attach(broker);
	return { broker, said, gaveUp };
}

describe("broker supervision", { timeout: 40_000 }, () => {
	const fixture = new Fixture();
	after(() => fixture.cleanup());

	it("says once that the broker died and brings it back on the same port", async () => {
		const { broker, said, gaveUp } = await supervised(fixture, 3);
		const first = broker.pid!;
		process.kill(first, "SIGKILL");
		await waitFor("the broker back", () => said.some(line => line.includes("is back")));
		await waitForTls(broker.port);
		assert.notEqual(broker.pid, first);
		assert.equal(said.filter(line => /^broker: mosquitto exited \(SIGKILL\) \(log .*\); starting it again on port \d+$/.test(line)).length, 1, said.join("\n"));
		assert.deepEqual(gaveUp, []);
	});

	it("gives up, once, on a broker that keeps dying", async () => {
		const { broker, said, gaveUp } = await supervised(fixture, 1);
		process.kill(broker.pid!, "SIGKILL");
		await waitFor("the first restart", () => said.some(line => line.includes("is back")));
		process.kill(broker.pid!, "SIGKILL");
		await waitFor("giving up", () => gaveUp.length > 0);
		assert.equal(gaveUp.length, 1);
		assert.match(gaveUp[0], /^the broker died 2 times in 60 s, last: mosquitto exited \(SIGKILL\)/);
	});
});
