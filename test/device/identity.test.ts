/*
 * The device's own identity in the Linux simulator, on XS's TLS stack, against
 * Mosquitto configured as the broker kit configures a production broker, except that
 * it keeps OpenSSL's default cipher order: that broker picks DHE_RSA when a client
 * offers it, and XS cannot sign a client CertificateVerify under DHE_RSA, so mutual
 * TLS here holds manifest.json's `config.tls` (DHE_RSA off).
 *
 * Three builds dial one relay each, which the cases point at different brokers:
 * - "sim-mtls": its certificate (CN = its id) and two roots: delivers birth and
 *   readings under mTLS + ACL; reaches a server-only broker under the second CA.
 * - "sim-pw": the right password, no certificate: delivers under the password file;
 *   the mTLS broker lets nothing through and it keeps retrying.
 * - "sim-bad": a wrong password and a certificate from another CA: refused with code
 *   5 (reason `refused`) and retried; the mTLS broker lets nothing through.
 * A fourth build names a key that is not its certificate's and a root that is no
 * certificate: the config is refused before anything starts.
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import { OPERATOR } from "../../tools/broker/kit";
import { issueDeviceCert, makeRogueServer } from "../../tools/pki";
import { startProxy, type TcpProxy } from "../../tools/harness/tcp-proxy";
import { waitFor } from "../../tools/harness/wait";
import { distinctSeqs, type Watcher } from "../../tools/harness/watcher";
import { DeviceFixture, sdkSkip } from "./support";

const PASSWORD = "right-secret";
const OPERATOR_PASSWORD = "operator-secret";
const online = (payload: unknown) => (payload as { online?: boolean }).online === true;
const count = (lines: string[], text: string) => lines.filter(line => line.includes(text)).length;

describe("simulator: device identity", () => {
	let fixture: DeviceFixture;
	let mtls: Broker;
	let passwords: Broker;
	let secondCa: Broker;
	let operatorOnMtls: Watcher;
	let operatorOnPasswords: Watcher;
	const relays: Record<string, TcpProxy> = {};
	const builds: Record<string, string> = {};

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const dir = fixture.pkiDir;
		const own = issueDeviceCert(dir, "sim-mtls");
		const other = issueDeviceCert(dir, "sim-other");
		issueDeviceCert(dir, OPERATOR);
		const rogueServer = makeRogueServer(dir);
		const foreign = issueDeviceCert(dir, "sim-bad", { ca: "rogue-ca" });
		execFileSync("openssl", ["x509", "-in", "rogue-ca.pem", "-outform", "DER", "-out", "rogue-ca.der"], { cwd: dir });
		writeFileSync(join(dir, "not-a-ca.der"), "this is not a certificate");

		mtls = await fixture.broker({ auth: { mode: "mtls" } });
		passwords = await fixture.broker({ auth: { mode: "password", passwords: { "sim-pw": PASSWORD, [OPERATOR]: OPERATOR_PASSWORD } } });
		secondCa = await fixture.broker({ certName: rogueServer });
		operatorOnMtls = await fixture.watcher({ port: mtls.port, topics: ["devices/#"], clientCert: { cert: `device-${OPERATOR}.pem`, key: `device-${OPERATOR}.key` } });
		operatorOnPasswords = await fixture.watcher({ port: passwords.port, topics: ["devices/#"], username: OPERATOR, password: OPERATOR_PASSWORD });
		for (const id of ["sim-mtls", "sim-pw", "sim-bad"]) {
			relays[id] = await startProxy(mtls.port);
			fixture.onCleanup(() => relays[id].close());
		}
		const [a, b, c, d] = await Promise.all([
			fixture.build(relays["sim-mtls"].port, "sim-mtls",
				{ caCert: "sim-ca.der,rogue-ca.der", clientCert: "device-sim-mtls.crt.der", clientKey: "device-sim-mtls.key.der" },
				"lin", [own.certDer, own.keyDer, join(dir, "rogue-ca.der")]),
			fixture.build(relays["sim-pw"].port, "sim-pw", { mqttUser: "sim-pw", mqttPassword: PASSWORD }),
			fixture.build(relays["sim-bad"].port, "sim-bad",
				{ mqttUser: "sim-pw", mqttPassword: "wrong-secret", clientCert: "device-sim-bad.crt.der", clientKey: "device-sim-bad.key.der" },
				"lin", [foreign.certDer, foreign.keyDer]),
			fixture.build(mtls.port, "sim-config",
				{ caCert: "sim-ca.der,not-a-ca.der", clientCert: "device-sim-mtls.crt.der", clientKey: "device-sim-other.key.der" },
				"lin", [own.certDer, other.keyDer, join(dir, "not-a-ca.der")]),
		]);
		Object.assign(builds, { "sim-mtls": a, "sim-pw": b, "sim-bad": c, "sim-config": d });
	});
	after(() => fixture?.cleanup());

	it("mTLS: the right certificate delivers birth and readings (ACL: its CN is its id)", { skip: sdkSkip }, async () => {
		relays["sim-mtls"].retarget(mtls.port);
		const simulator = fixture.simulate(builds["sim-mtls"]);
		const birth = await operatorOnMtls.waitFor("devices/sim-mtls/status", online, 60_000);
		const { boot } = JSON.parse(birth.payload) as { boot: number };
		await waitFor("three readings", () => distinctSeqs(operatorOnMtls.readings("devices/sim-mtls/telemetry"), boot).length >= 3, 30_000);
		assert.ok(!simulator.lines.some(line => line.includes("certificateVerify")), simulator.lines.join("\n"));
		await simulator.stop();
	});

	it("two roots bundled: the same build reaches a broker under the second CA", { skip: sdkSkip }, async () => {
		const watcher = await fixture.watcher({ port: secondCa.port, topics: ["devices/#"], insecure: true });
		relays["sim-mtls"].retarget(secondCa.port);
		const simulator = fixture.simulate(builds["sim-mtls"]);
		await watcher.waitFor("devices/sim-mtls/status", online, 60_000);
		await simulator.stop();
	});

	it("password: the right password delivers; without a certificate the mTLS broker lets nothing through", { skip: sdkSkip }, async () => {
		relays["sim-pw"].retarget(passwords.port);
		let simulator = fixture.simulate(builds["sim-pw"]);
		await operatorOnPasswords.waitFor("devices/sim-pw/status", online, 60_000);
		await simulator.stop();

		relays["sim-pw"].retarget(mtls.port);
		simulator = fixture.simulate(builds["sim-pw"]);
		await waitFor("three failed attempts", () => count(simulator.lines, "connecting -> backing-off (connect-failed") >= 3, 60_000);
		assert.equal(count(simulator.lines, "-> online"), 0, simulator.lines.join("\n"));
		assert.deepEqual(operatorOnMtls.on("devices/sim-pw/status"), []);
		await simulator.stop();
	});

	it("a wrong password is refused with its code and retried; another CA's certificate gets nothing through", { skip: sdkSkip }, async () => {
		relays["sim-bad"].retarget(passwords.port);
		let simulator = fixture.simulate(builds["sim-bad"]);
		await waitFor("three refusals", () => count(simulator.lines, "connecting -> backing-off (refused: code 5, not authorised; retry in") >= 3, 60_000);
		assert.equal(count(simulator.lines, "-> online"), 0, simulator.lines.join("\n"));
		assert.ok(simulator.lines.some(line => line === "mqtt: backing-off -> connecting"), "it retries");
		await simulator.stop();

		relays["sim-bad"].retarget(mtls.port);
		simulator = fixture.simulate(builds["sim-bad"]);
		await waitFor("three failed attempts", () => count(simulator.lines, "connecting -> backing-off (connect-failed") >= 3, 60_000);
		assert.equal(count(simulator.lines, "-> online"), 0, simulator.lines.join("\n"));
		assert.deepEqual(operatorOnMtls.on("devices/sim-bad/status"), []);
		await simulator.stop();
	});

	it("a key that is not the certificate's, and a root that is no certificate, are config problems before anything starts", { skip: sdkSkip }, async () => {
		const simulator = fixture.simulate(builds["sim-config"]);
		await waitFor("the refusal", () => simulator.lines.some(line => line.includes("config: refusing to start")), 60_000);
		await waitFor("both problems", () => count(simulator.lines, "config:   ") >= 2, 10_000);
		const problems = simulator.lines.filter(line => line.startsWith("config:   ")).join("\n");
		assert.match(problems, /caCert: "not-a-ca.der" is not a DER X.509 certificate/);
		assert.match(problems, /clientKey: "device-sim-other.key.der" is not the key of clientCert "device-sim-mtls.crt.der"/);
		assert.equal(count(simulator.lines, "mqtt:"), 0, "nothing started");
		await simulator.stop();
	});
});
