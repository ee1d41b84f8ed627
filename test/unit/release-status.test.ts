/*
 * The operator's view of a release (tools/release-status.ts): devices counted from
 * births and ota messages, the current stage and its failed share; and the broker
 * kit's ACL lines for releases.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetView, formatSummary } from "../../tools/release-status";
import { aclText } from "../../tools/broker/kit";
import { bucketOf } from "../../modules/app/updates/release";

const TOPIC = "fleet/lin/release";
const RELEASE = { model: "lin", version: "1.1.0", size: 1, sha256: "ab".repeat(32), url: "https://h/x", signature: "AA==", rollout: 50, stageFrom: 20 };
// rel-7: 8, rel-9: 18 (stage one); rel-6: 27, rel-3: 32, rel-8: 37, rel-5: 46 (stage two); rel-1: 70
const birth = (fw: string, model = "lin") => JSON.stringify({ online: true, fw, boot: 1, reason: "power-on", model });

test("release status: devices by version and standing; the stage's failed share excludes E_CANCELLED", () => {
	assert.deepEqual(["rel-7", "rel-9", "rel-6", "rel-3", "rel-8", "rel-5", "rel-1"].map(bucketOf), [8, 18, 27, 32, 37, 46, 70]);
	const view = new FleetView("devices", "lin", TOPIC);
	view.feed(TOPIC, JSON.stringify(RELEASE));
	for (const id of ["rel-6", "rel-3", "rel-8", "rel-5", "rel-1"])
		view.feed(`devices/${id}/status`, birth("1.0.0"));
	view.feed("devices/rel-7/status", birth("1.1.0"));
	view.feed("devices/rel-9/status", birth("1.1.0"));
	view.feed("devices/other/status", birth("3.0.0", "esp32/esp32_thing"));
	view.feed("devices/rel-6/ota", JSON.stringify({ state: "failed", version: "1.1.0", error: { code: "E_HASH" } }));
	view.feed("devices/rel-6/ota", JSON.stringify({ state: "ignored", version: "1.1.0", error: { code: "E_VERSION" } }));
	view.feed("devices/rel-3/ota", JSON.stringify({ state: "failed", version: "1.1.0", error: { code: "E_CANCELLED" } }));
	view.feed("devices/rel-8/ota", JSON.stringify({ state: "downloading", version: "1.1.0", received: 1, total: 2 }));
	view.feed("devices/rel-5/ota", JSON.stringify({ state: "scheduled", version: "1.1.0", delay: 5 }));
	view.feed("devices/rel-5/telemetry", "not json");
	const summary = view.summary();
	assert.equal(summary.devices, 7, "only births naming the model");
	assert.deepEqual(summary.running, { "1.0.0": 5, "1.1.0": 2 });
	assert.deepEqual(summary.standing, { updated: 2, downloading: 1, scheduled: 1, failed: 1, "rolled-back": 0, ignored: 0, waiting: 1, "not-in-rollout": 1 });
	assert.deepEqual(summary.stage, { from: 20, to: 50, devices: 4, failed: 1 });
	assert.equal(summary.failedShare, 0.25);
	view.feed("devices/rel-8/ota", JSON.stringify({ state: "rolled-back", version: "1.1.0", running: "1.0.0" }));
	assert.equal(view.summary().failedShare, 0.5);
	assert.match(formatSummary(view.summary(), "lin"), /stage 20\.\.50%: 4 devices, 2 failed or rolled back \(50\.0%\)/);
});

test("release status: no release, and a device that runs the version is updated whatever it reported", () => {
	const view = new FleetView("devices", "lin", TOPIC);
	view.feed("devices/rel-7/status", birth("1.0.0"));
	assert.match(formatSummary(view.summary(), "lin"), /no release for lin \(1 devices\)/);
	view.feed(TOPIC, JSON.stringify({ ...RELEASE, stageFrom: undefined }));
	view.feed("devices/rel-7/ota", JSON.stringify({ state: "failed", version: "1.1.0", error: { code: "E_HASH" } }));
	assert.equal(view.summary().standing.failed, 1);
	view.feed("devices/rel-7/status", birth("1.1.0"));
	assert.equal(view.summary().standing.updated, 1);
	assert.equal(view.summary().stage.from, 0);
	view.feed(TOPIC, "");
	assert.equal(view.release, undefined, "a deleted release");
});

test("broker kit: devices read every model's release and write none; the operator publishes them", () => {
	const acl = aclText("devices", "homeassistant", "operator", "fleet").split("\n");
	assert.ok(acl.includes("pattern readwrite devices/%u/#"));
	assert.ok(acl.includes("pattern read fleet/+/release"));
	assert.ok(!acl.some(line => /^pattern (write|readwrite) fleet/.test(line)));
	const operator = acl.indexOf("user operator");
	assert.ok(operator > acl.indexOf("pattern read fleet/+/release"));
	assert.ok(acl.slice(operator).includes("topic readwrite fleet/#"));
});
