/*
 * Setup mode on Node: the core's setup handler behind node:http (node/setup-server.ts)
 * provisions a device that has no broker in its config, which then connects with the
 * provisioned identity (mutual TLS, ACL by CN) to a Mosquitto broker. Bad input on the
 * way: wrong code, bad settings, a 1 MB request, a client that never finishes; the
 * server keeps answering and the stored settings stay as they were.
 * The simulator runs the same flow in test/device/setup.test.ts.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OPERATOR } from "../../tools/broker/kit";
import { issueDeviceCert } from "../../tools/pki";
import { Fixture } from "../../tools/harness/fixture";
import { mtlsIdentity, provision } from "../../tools/provision";
import { createNodeDevice } from "../../node/device";
import { FileBlobs, startNodeSetup, type NodeSetup } from "../../node/setup-server";

const IMAGE = { topicPrefix: "devices", interval: 1_000, backoffMin: 200, backoffMax: 1_000 };	// no broker, no id: one image for a fleet

describe("setup mode on Node", () => {
	const fixture = new Fixture();
	const state = mkdtempSync(join(tmpdir(), "smn-it-setup-"));
	let setup: NodeSetup;
	let saved = 0;
	const lines: string[] = [];
	before(async () => {
		issueDeviceCert(fixture.pkiDir, OPERATOR);
		setup = await startNodeSetup({ image: IMAGE, blobs: new FileBlobs(state), port: 0, log: line => lines.push(line), onSaved: () => { saved++; } });
	});
	after(async () => {
		await setup?.close();
		await fixture.cleanup();
		rmSync(state, { recursive: true, force: true });
	});
	const url = () => `http://127.0.0.1:${setup.port}/`;

	it("prints the setup line; refuses a wrong code, bad settings, 1 MB and a stalled client, storing nothing", async () => {
		assert.ok(lines.includes(`setup: open on port ${setup.port}, code ${setup.code}`), lines.join("\n"));
		assert.equal((await provision(url(), "wrong-code", { mqttHost: "localhost" })).status, 401);
		const bad = await provision(url(), setup.code, { mqttPort: 70000, mqttHost: "localhost", extra: 1, mqttPassword: "pw-secret" });
		assert.equal(bad.status, 400);
		assert.deepEqual(Object.keys(JSON.parse(bad.body).errors).sort(), ["extra", "mqttPassword", "mqttPort"]);
		assert.ok(!bad.body.includes("pw-secret"));
		const huge = await provision(url(), setup.code, { ssid: "x".repeat(1_000_000) }).catch(error => ({ status: 0, body: String(error) }));
		assert.ok(huge.status === 413 || huge.status === 0, `answered ${huge.status}`);	// answered 413, or closed mid-upload
		const stalled = connect(setup.port, "127.0.0.1");
		stalled.write("POST /settings HTTP/1.1\r\nContent-Length: 100\r\n\r\n{");	// and never the rest
		const page = await fetch(url());
		assert.equal(page.status, 200);
		assert.match(await page.text(), /name="mqttHost"/);
		stalled.destroy();
		assert.deepEqual(setup.store.load(), {});
		assert.equal(saved, 0);
	});

	it("200 stores the identity; the device comes online with it at the broker", async () => {
		const broker = await fixture.broker({ auth: { mode: "mtls" } });
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/#"], clientCert: { cert: `device-${OPERATOR}.pem`, key: `device-${OPERATOR}.key` } });
		const answer = await provision(url(), setup.code, { mqttHost: "localhost", mqttPort: broker.port, deviceId: "it-setup", ...mtlsIdentity("it-setup", fixture.pkiDir) });
		assert.deepEqual([answer.status, answer.body], [200, "{\"ok\":true}"]);
		assert.equal(saved, 1);
		const stored = setup.store.load();
		assert.equal(stored.deviceId, "it-setup");
		const node = createNodeDevice({ config: IMAGE, stored, certsDir: fixture.pkiDir, log: { print: false } });
		fixture.devices.push(node);
		node.device.start();
		await watcher.waitFor("devices/it-setup/status", payload => (payload as { online?: boolean }).online === true);
		assert.ok(!lines.join("\n").includes(stored.clientKey as string));
	});
});
