/*
 * The device refuses a broker it must not trust: a server certificate from another
 * CA, an expired one, and one for another name. It never goes online, nothing it
 * sampled reaches the broker, and the connection's last reason names the TLS problem.
 * Mutual TLS: a broker that requires a client certificate accepts the device only
 * with the one the test CA issued.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeClientCert, makeExpiredServer, makeRogueServer, makeWrongNameServer } from "../../tools/pki";
import { Reason, State } from "../../modules/app/connection";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";

const failedAttempts = (lines: string[]) => lines.filter(line => line.includes(`connecting -> backing-off (${Reason.ConnectFailed}`)).length;

describe("TLS refusal", () => {
	const fixture = new Fixture();
	before(() => {
		makeRogueServer(fixture.pkiDir);
		makeExpiredServer(fixture.pkiDir);
		makeWrongNameServer(fixture.pkiDir);
		makeClientCert(fixture.pkiDir);
	});
	after(() => fixture.cleanup());

	const cases: [string, () => string, RegExp][] = [
		["a server signed by another CA", () => "rogue-server", /self[- ]signed certificate in certificate chain|unable to get local issuer certificate/i],
		["an expired server certificate", () => "expired-server", /certificate has expired/i],
		["a certificate for another name", () => "wrong-name-server", /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/],
	];
	for (const [title, certName, problem] of cases)
		it(`refuses ${title}`, async () => {
			const broker = await fixture.broker({ certName: certName() });
			const id = `it-tls-${certName()}`;
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
		const withCert = fixture.device(broker.port, { deviceId: "it-tls-client-cert", clientCert: "client.pem", clientKey: "client.key" });
		without.device.start();
		withCert.device.start();
		await waitFor("the device with a certificate online", () => withCert.device.connection.state === State.Online);
		await waitFor("two refused attempts without one", () => failedAttempts(without.log.lines) >= 2, 20_000);
		assert.ok(!without.log.lines.some(line => line.includes("-> online")), "never online without a certificate");
	});
});
