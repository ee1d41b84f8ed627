/*
 * The committed manifest settles the SDK's TLS cipher suites and bundles the device's
 * credentials without a hand-written manifest. The device tests show the effect (mutual
 * TLS against a Mosquitto that would pick DHE first); this holds the cause.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../../manifest.json", import.meta.url), "utf8")) as {
	config: Record<string, unknown>;
	resources: Record<string, string[]>;
};

test("manifest: DHE_RSA is off and ECDHE_RSA on (XS's client CertificateVerify has no DHE_RSA path)", () => {
	assert.deepEqual(manifest.config.tls, { DHE_RSA: false, ECDHE_RSA: true });
});

test("manifest: the device certificate and key and extra roots in certs/ are bundled when present", () => {
	assert.deepEqual(manifest.resources["device*"], ["./certs/device*"]);
	assert.deepEqual(manifest.resources["ca-*"], ["./certs/ca-*"]);
	assert.ok(manifest.resources["*"].includes("./certs/ca"));
});
