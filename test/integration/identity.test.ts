/*
 * The device's own identity on Node, against Mosquitto configured as the broker kit
 * configures a production broker (tools/broker/kit.ts):
 * - mutual TLS, username from the certificate, ACL <prefix>/%u/#: the right certificate
 *   delivers birth and readings; no certificate, and one from another CA, deliver
 *   nothing and keep retrying; the ACL keeps a device out of another's topics;
 * - password file: the right password delivers; a wrong one is refused (reason
 *   `refused`, the broker's code) and retried;
 * - two roots bundled: the device reaches a broker under either CA.
 * The simulator runs the same cases in test/device/identity.test.ts.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { OPERATOR } from "../../tools/broker/kit";
import { issueDeviceCert, makeRogueServer } from "../../tools/pki";
import { Reason, State } from "../../modules/app/connection/connection";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";
import { distinctSeqs } from "../../tools/harness/watcher";

const attempts = (lines: string[], reason: string) => lines.filter(line => line.includes(`connecting -> backing-off (${reason}`)).length;
const OPERATOR_CERT = { cert: `device-${OPERATOR}.pem`, key: `device-${OPERATOR}.key` };

describe("device identity", () => {
	const fixture = new Fixture();
	before(() => {
		issueDeviceCert(fixture.pkiDir, "it-mtls");
		issueDeviceCert(fixture.pkiDir, OPERATOR);
		makeRogueServer(fixture.pkiDir);
		issueDeviceCert(fixture.pkiDir, "it-foreign", { ca: "rogue-ca" });
		execFileSync("openssl", ["x509", "-in", "rogue-ca.pem", "-outform", "DER", "-out", "rogue-ca.der"], { cwd: fixture.pkiDir });
	});
	after(() => fixture.cleanup());

	it("mTLS: the right certificate delivers; none, or another CA's, deliver nothing and keep retrying", async () => {
		const broker = await fixture.broker({ auth: { mode: "mtls" } });
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/#"], clientCert: OPERATOR_CERT });
		const good = fixture.device(broker.port, { deviceId: "it-mtls", clientCert: "device-it-mtls.crt.der", clientKey: "device-it-mtls.key.der" });
		const none = fixture.device(broker.port, { deviceId: "it-mtls-none" });
		const foreign = fixture.device(broker.port, { deviceId: "it-foreign", clientCert: "device-it-foreign.crt.der", clientKey: "device-it-foreign.key.der" });
		for (const node of [good, none, foreign])
			node.device.start();
		await watcher.waitFor("devices/it-mtls/status", payload => (payload as { online?: boolean }).online === true);
		await waitFor("two readings", () => distinctSeqs(watcher.readings("devices/it-mtls/telemetry"), 1).length >= 2);
		await waitFor("three failed attempts each without the right certificate",
			() => attempts(none.log.lines, Reason.ConnectFailed) >= 3 && attempts(foreign.log.lines, Reason.ConnectFailed) >= 3, 20_000);
		for (const node of [none, foreign]) {
			assert.ok(!node.log.lines.some(line => line.includes("-> online")), node.log.lines.join("\n"));
			assert.notEqual(node.device.connection.state, State.Stopped);
		}
		assert.deepEqual(watcher.received.filter(message => !message.topic.startsWith("devices/it-mtls/")).map(message => message.topic), []);
	});

	it("mTLS: the ACL keeps a device out of another device's topics", async () => {
		const broker = await fixture.broker({ auth: { mode: "mtls" } });
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/#"], clientCert: OPERATOR_CERT });
		const { pkiDir } = fixture;
		const intruder = await mqtt.connectAsync({
			protocol: "mqtts", host: "localhost", port: broker.port, protocolVersion: 4, reconnectPeriod: 0,
			ca: readFileSync(join(pkiDir, "ca.pem")), cert: readFileSync(join(pkiDir, "device-it-mtls.pem")), key: readFileSync(join(pkiDir, "device-it-mtls.key")),
		});
		await intruder.publishAsync("devices/someone-else/cmd", "{\"id\":\"x\",\"op\":\"restart\"}");
		await intruder.publishAsync("devices/it-mtls/telemetry", "own topic");
		await watcher.waitFor("devices/it-mtls/telemetry", payload => payload === "own topic");
		assert.deepEqual(watcher.on("devices/someone-else/cmd"), [], "the broker dropped the publish to another device's topic");
		await intruder.endAsync();
	});

	it("password: the right password delivers; a wrong one is refused with its code and retried", async () => {
		const broker = await fixture.broker({ auth: { mode: "password", passwords: { "it-pw": "right-secret", [OPERATOR]: "operator-secret" } } });
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/#"], username: OPERATOR, password: "operator-secret" });
		const good = fixture.device(broker.port, { deviceId: "it-pw", mqttUser: "it-pw", mqttPassword: "right-secret" });
		const wrong = fixture.device(broker.port, { deviceId: "it-pw-wrong", mqttUser: "it-pw", mqttPassword: "wrong-secret" });
		good.device.start();
		wrong.device.start();
		await watcher.waitFor("devices/it-pw/status", payload => (payload as { online?: boolean }).online === true);
		await waitFor("three refusals", () => attempts(wrong.log.lines, Reason.Refused) >= 3, 20_000);
		assert.equal(wrong.device.connection.lastReason, Reason.Refused);
		assert.equal(wrong.device.connection.lastDetail, "code 5, not authorised");
		assert.ok(wrong.log.lines.some(line => /connecting -> backing-off \(refused: code 5, not authorised; retry in \d+ ms\)/.test(line)), wrong.log.lines.join("\n"));
		assert.ok(!wrong.log.lines.some(line => line.includes("-> online")));
		assert.deepEqual(watcher.on("devices/it-pw-wrong/status"), []);
	});

	it("two roots bundled: reaches a broker under either CA", async () => {
		const current = await fixture.broker();
		const next = await fixture.broker({ certName: makeRogueServer(fixture.pkiDir) });
		const roots = { caCert: "ca.der,rogue-ca.der" };
		const one = fixture.device(current.port, { deviceId: "it-roots-1", ...roots });
		const two = fixture.device(next.port, { deviceId: "it-roots-2", ...roots });
		one.device.start();
		two.device.start();
		await waitFor("both online", () => one.device.connection.state === State.Online && two.device.connection.state === State.Online);
	});
});
