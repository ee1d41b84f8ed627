/*
 * createNodeDevice refuses a bad config with one Error that lists every problem, and
 * starts nothing. No broker is needed: the check happens before any connection.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createNodeDevice } from "../../node/device";
import { generatePki } from "../../tools/pki";

describe("config validation", () => {
	const pkiDir = mkdtempSync(join(tmpdir(), "smn-it-config-"));
	generatePki(pkiDir);
	after(() => rmSync(pkiDir, { recursive: true, force: true }));

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

	it("accepts a minimal good config and starts nothing", () => {
		const node = createNodeDevice({ config: { mqttHost: "localhost" }, certsDir: pkiDir, log: { print: false } });
		assert.equal(node.device.connection.state, "idle");
		assert.match(node.config.deviceId, /^node-[0-9a-f]{8}$/);
		assert.equal(node.config.mqttPort, 8883);
	});
});
