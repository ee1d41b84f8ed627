/*
 * createNodeDevice refuses a bad config with one Error that lists every problem, and
 * starts nothing. No broker is needed: the check happens before any connection.
 */

import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createNodeDevice } from "../../node/device";
import { generatePki, issueDeviceCert } from "../../tools/pki";

describe("config validation", () => {
	const pkiDir = mkdtempSync(join(tmpdir(), "smn-it-config-"));
	generatePki(pkiDir);
	issueDeviceCert(pkiDir, "one");
	issueDeviceCert(pkiDir, "two");
	after(() => rmSync(pkiDir, { recursive: true, force: true }));

	it("refuses topic prefixes the broker would not serve, before connecting (a 70,000-byte one crashed Node)", () => {
		for (const topicPrefix of ["$SYS/fleet", "home\u0007", "p".repeat(70_000)])
			assert.throws(() => createNodeDevice({ config: { mqttHost: "localhost", deviceId: "n1", topicPrefix }, certsDir: pkiDir, log: { print: false } }),
				/invalid config[\s\S]*^- topicPrefix:/m, JSON.stringify(topicPrefix.slice(0, 20)));
	});

	it("throws listing every problem of a bad config", () => {
		const bad = {
			mqttHost: "bad host!",
			mqttPort: "99999",
			deviceId: "has space",
			interval: 10,
			backoffMin: 5_000,
			backoffMax: 1_000,
			clientCert: "client.der",
			sensor: "thermocouple",
			mqttPassword: "secret-value",
			outputs: "LED:2",
		};
		let message = "";
		assert.throws(() => createNodeDevice({ config: bad, certsDir: pkiDir, log: { print: false } }), (error: unknown) => {
			message = error instanceof Error ? error.message : String(error);
			return true;
		});
		for (const key of ["mqttHost", "mqttPort", "deviceId", "interval", "backoffMax", "clientCert/clientKey", "sensor", "mqttPassword", "outputs"])
			assert.match(message, new RegExp(`^- ${key.replace("/", "\\/")}:`, "m"), `problem with ${key} is listed in:\n${message}`);
		assert.doesNotMatch(message, /secret-value/, "secrets are never echoed");
	});

	it("reports a CA file that is not there", () => {
		assert.throws(() => createNodeDevice({ config: { mqttHost: "localhost", caCert: "missing.der" }, certsDir: pkiDir, log: { print: false } }),
			/caCert: "missing.der" not found/);
	});

	const refusal = (config: Record<string, string>) => {
		try {
			createNodeDevice({ config: { mqttHost: "localhost", ...config }, certsDir: pkiDir, log: { print: false } });
		}
		catch (error) {
			return (error as Error).message;
		}
		assert.fail("the config was accepted");
	};

	it("reports a client key that is not the certificate's, before anything starts", () => {
		assert.match(refusal({ clientCert: "device-one.crt.der", clientKey: "device-two.key.der" }),
			/clientKey: "device-two.key.der" is not the key of clientCert "device-one.crt.der"/);
	});

	it("reports a key or certificate that does not parse", () => {
		copyFileSync(join(pkiDir, "device-one.key"), join(pkiDir, "pem-key.der"));	// PEM under a DER name
		writeFileSync(join(pkiDir, "garbage.der"), "not a certificate");
		const message = refusal({ caCert: "ca.der,garbage.der", clientCert: "garbage.der", clientKey: "pem-key.der" });
		assert.match(message, /^- caCert: "garbage.der" is not an X.509 certificate/m);
		assert.match(message, /^- clientCert: "garbage.der" is not an X.509 certificate/m);
		assert.match(message, /^- clientKey: "pem-key.der" is not an unencrypted PKCS#8 DER RSA key/m);
	});

	it("accepts a device certificate and key from the dev PKI, and several roots", () => {
		copyFileSync(join(pkiDir, "ca.der"), join(pkiDir, "next-ca.der"));
		const node = createNodeDevice({ config: { mqttHost: "localhost", caCert: "ca.der,next-ca.der", clientCert: "device-one.crt.der", clientKey: "device-one.key.der" }, certsDir: pkiDir, log: { print: false } });
		assert.equal(node.device.connection.state, "idle");
	});

	it("accepts a minimal good config and starts nothing", () => {
		const node = createNodeDevice({ config: { mqttHost: "localhost" }, certsDir: pkiDir, log: { print: false } });
		assert.equal(node.device.connection.state, "idle");
		assert.match(node.config.deviceId, /^node-[0-9a-f]{8}$/);
		assert.equal(node.config.mqttPort, 8883);
	});
});
