/*
 * The device refuses a broker it must not trust: a server certificate from another
 * CA, an expired one, and one for another name. It never goes online, nothing it
 * sampled reaches the broker, and the connection's last reason names the TLS problem.
 * The Node runtime refuses what the board refuses (node/device-tls.ts), at the broker
 * and at an update server: a certificate without a SAN, a certificate with an EC key,
 * a server that speaks TLS 1.3 only; the tests' own broker is negotiated at TLS 1.2.
 * Mutual TLS: a broker that requires a client certificate accepts the device only
 * with the one the test CA issued; a certificate and key that do not match are a
 * config problem, reported before anything starts.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { issueDeviceCert, makeEcKeyServer, makeExpiredServer, makeNoSanServer, makeRogueServer, makeWrongNameServer } from "../../tools/pki";
import type { BrokerOptions } from "../../tools/broker/broker";
import { Gate } from "../../modules/app/commands/channel";
import { Reason, State } from "../../modules/app/connection/connection";
import { Fixture } from "../../tools/harness/fixture";
import { startImageServer } from "../../tools/harness/image-server";
import { waitFor } from "../../tools/harness/wait";
import { parse } from "../../tools/harness/watcher";
import { signedStart } from "../../tools/ota-sign";

const failedAttempts = (lines: string[]) => lines.filter(line => line.includes(`connecting -> backing-off (${Reason.ConnectFailed}`)).length;

describe("TLS refusal", () => {
	const fixture = new Fixture();
	before(() => {
		makeRogueServer(fixture.pkiDir);
		makeExpiredServer(fixture.pkiDir);
		makeWrongNameServer(fixture.pkiDir);
		issueDeviceCert(fixture.pkiDir, "it-tls-client-cert");
		issueDeviceCert(fixture.pkiDir, "it-tls-other-device");
		makeNoSanServer(fixture.pkiDir);
		makeEcKeyServer(fixture.pkiDir);
	});
	after(() => fixture.cleanup());

	const cases: [string, Omit<BrokerOptions, "pkiDir">, RegExp][] = [
		["a server signed by another CA", { certName: "rogue-server" }, /self[- ]signed certificate in certificate chain|unable to get local issuer certificate/i],
		["an expired server certificate", { certName: "expired-server" }, /certificate has expired/i],
		["a certificate for another name", { certName: "wrong-name-server" }, /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/],
		["a certificate without a SAN (no fallback to the CN)", { certName: "no-san-server" }, /no subjectAltName/],
		["a certificate with an EC key (RSA key exchange only)", { certName: "ec-server" }, /handshake failure|no shared cipher|no ciphers available/i],
		["a broker that speaks TLS 1.3 only", { tlsVersion: "tlsv1.3" }, /protocol version|unsupported protocol|wrong version/i],
	];
	for (const [title, brokerOptions, problem] of cases)
		it(`refuses ${title}`, async () => {
			const broker = await fixture.broker(brokerOptions);
			const id = `it-tls-${brokerOptions.certName ?? brokerOptions.tlsVersion}`.replace(/[^A-Za-z0-9_-]/g, "");
			// The observer trusts anything: it only reports what reaches this broker.
			const watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${id}/#`], insecure: true });
			const node = fixture.device(broker.port, { deviceId: id });
			node.device.start();
			await waitFor("two refused attempts and a reading made", () => failedAttempts(node.log.lines) >= 2 && node.device.telemetry.seq >= 1, 20_000);
			const { connection } = node.device;
			assert.notEqual(connection.state, State.Online);
			assert.ok(!node.log.lines.some(line => line.includes("-> online")), "never online");
			assert.equal(connection.lastReason, Reason.ConnectFailed);
			assert.match(connection.lastDetail, problem);
			assert.deepEqual(watcher.received, [], "the broker received nothing from the device");
			assert.ok(node.device.telemetry.queued >= 1, "readings wait in the queue");
			node.device.stop();
		});

	it("requires the client certificate when the broker asks for one", async () => {
		const broker = await fixture.broker({ requireClientCert: true });
		const without = fixture.device(broker.port, { deviceId: "it-tls-no-client-cert" });
		const withCert = fixture.device(broker.port, { deviceId: "it-tls-client-cert", clientCert: "device-it-tls-client-cert.crt.der", clientKey: "device-it-tls-client-cert.key.der" });
		without.device.start();
		withCert.device.start();
		await waitFor("the device with a certificate online", () => withCert.device.connection.state === State.Online);
		await waitFor("two refused attempts without one", () => failedAttempts(without.log.lines) >= 2, 20_000);
		assert.ok(!without.log.lines.some(line => line.includes("-> online")), "never online without a certificate");
	});

	it("negotiates the tests' own broker at TLS 1.2 with an RSA key exchange", async () => {
		const broker = await fixture.broker();
		const node = fixture.device(broker.port, { deviceId: "it-tls-version" });
		node.device.start();
		await waitFor("online", () => node.device.connection.state === State.Online);
		const negotiated = node.transport.negotiated();
		assert.equal(negotiated?.protocol, "TLSv1.2");
		assert.match(negotiated?.cipher ?? "", /^(ECDHE-RSA-)?AES/);
		node.device.stop();
	});

	it("reports a client certificate and key that do not match as a config problem, before starting", () => {
		assert.throws(() => fixture.device(1, { deviceId: "it-tls-mismatch", clientCert: "device-it-tls-client-cert.crt.der", clientKey: "device-it-tls-other-device.key.der" }),
			/invalid config[\s\S]*clientKey: [\s\S]*is not the key of clientCert/);
	});

	it("refuses an update server the board would refuse: no SAN, an EC key, TLS 1.3 only", async () => {
		const broker = await fixture.broker();
		const image = Buffer.alloc(1_024, 7);
		const servers = await Promise.all([
			startImageServer(fixture.pkiDir, "no-san-server"),
			startImageServer(fixture.pkiDir, "ec-server"),
			startImageServer(fixture.pkiDir, "server", { tls13Only: true }),
		]);
		for (const server of servers) {
			fixture.onCleanup(() => server.close());
			server.route("/fw.bin", { kind: "ok", body: image });
		}
		const id = "it-tls-ota";
		const operator = await fixture.watcher({ port: broker.port, topics: [`devices/${id}/ota`] });
		const node = fixture.device(broker.port, { deviceId: id });
		node.device.start();
		await waitFor("the command gate to open", () => node.device.channel.gate === Gate.Open);
		for (const server of servers) {
			const from = operator.on(`devices/${id}/ota`).length;
			await operator.publish(`devices/${id}/cmd`, JSON.stringify({ id: `u${server.port}`, ...signedStart(readFileSync(join(fixture.pkiDir, "ota-signing.key")), image, server.url("/fw.bin"), "1.1.0") }));
			const failed = await waitFor("failed", () => operator.on(`devices/${id}/ota`).slice(from).map(m => parse(m.payload) as { state: string; error?: { code: string; message: string } }).find(p => p.state === "failed"), 10_000);
			assert.equal(failed.error?.code, "E_NETWORK", JSON.stringify(failed));
			assert.equal(server.requests.size, 0, "no request was served");
		}
		node.device.stop();
	});
});
