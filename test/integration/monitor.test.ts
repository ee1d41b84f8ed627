/*
 * npm start's monitor (tools/monitor.ts) against a real mosquitto and a Node device: a
 * command shows once, with its result; a broker outage is said once and the return
 * once, with no repeated connection errors in between.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { readFileSync } from "node:fs";
import type { Broker } from "../../tools/broker/broker";
import { Gate } from "../../modules/app/commands/channel";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { startMonitor, type Monitor } from "../../tools/monitor";

describe("npm start's monitor", { timeout: 40_000 }, () => {
	const fixture = new Fixture();
	const said: string[] = [];
	let broker: Broker;
	let monitor: Monitor;

	before(async () => {
		broker = await fixture.broker();
		monitor = startMonitor({ port: broker.port, caPem: join(fixture.pkiDir, "ca.pem"), say: line => said.push(line) });
		fixture.onCleanup(() => monitor.stop());
		const node = fixture.device(broker.port, { deviceId: "mon-1", outputs: "led:2" });
		node.device.start();
		await waitFor("the command gate", () => node.device.channel.gate === Gate.Open);
	});
	after(() => fixture.cleanup());

	it("prints a command once, with its result, and hides the markers", async () => {
		await waitFor("the birth", () => said.some(line => /^mon-1 online fw \S+ boot 1/.test(line)));
		const client = await mqtt.connectAsync({ protocol: "mqtts", host: "localhost", port: broker.port, ca: readFileSync(join(fixture.pkiDir, "ca.pem")), protocolVersion: 4 });
		fixture.onCleanup(() => client.endAsync(true));
		await client.publishAsync("devices/mon-1/cmd", JSON.stringify({ id: "m1", op: "gpio.set", pin: "led", value: 1 }));
		await waitFor(`the result in\n${said.join("\n")}`, () => said.some(line => line.includes(" -> ")));
		assert.equal(said.filter(line => line.includes("m1")).length, 1, said.join("\n"));
		assert.match(said.find(line => line.includes("m1"))!, /^mon-1 cmd m1 gpio\.set pin=led value=1 \(\d+ ms\) -> ok pin=led value=1$/);
		assert.ok(said.some(line => line === "mon-1 pins led=1"), said.join("\n"));
		assert.ok(!said.some(line => /sync|cmd:\d/.test(line)), said.join("\n"));
	});

	it("says a broker outage once and the return once", async () => {
		const before = said.length;
		await broker.restart(3_500);
		await waitFor("the monitor back", () => said.slice(before).includes("monitor: connected again"));
		const outage = said.slice(before).filter(line => line.startsWith("monitor:"));
		assert.equal(outage.length, 2, outage.join("\n"));
		assert.match(outage[0], /; reconnecting every second \(quietly\)$/);
	});
});
