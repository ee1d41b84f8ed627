/*
 * Fleet releases, the pure parts: the release topic, the bucket, the install window
 * and the validation of a release message (modules/app/updates/release.ts).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { BUCKETS, RELEASE_MAX, ReleaseFault, bucketOf, isProblem, parseRelease, releaseDelay, releaseTopic, type Release, type ReleaseProblem } from "../../modules/app/updates/release";

const GOOD: Release = {
	model: "esp32/esp32_thing", version: "1.2.0", size: 1_048_576, sha256: "ab".repeat(32),
	url: "https://fw.example.com/node-1.2.0.bin", signature: "MEUCIQ" + "A".repeat(90), rollout: 10,
};

function refused(payload: string, fault: ReleaseFault, mentions?: string): ReleaseProblem {
	const result = parseRelease(payload);
	assert.ok(isProblem(result), `refused: ${payload.slice(0, 80)}`);
	assert.equal(result.fault, fault, result.message);
	if (mentions)
		assert.ok(result.message.includes(mentions), `${result.message} names ${mentions}`);
	return result;
}

test("release: the topic is <fleetPrefix>/<model with / as ->/release", () => {
	assert.equal(releaseTopic("fleet", "lin"), "fleet/lin/release");
	assert.equal(releaseTopic("fleet", "sim/moddable_two"), "fleet/sim-moddable_two/release");
	assert.equal(releaseTopic("acme/fleet", "esp32/esp32_thing"), "acme/fleet/esp32-esp32_thing/release");
});

test("release: the bucket is stable, 0..99, and spreads a fleet evenly", () => {
	assert.equal(bucketOf("node-1"), bucketOf("node-1"));
	assert.equal(bucketOf("node-1"), 87, "the same on every platform: FNV-1a of the id, mod 100");
	const counts = new Array(BUCKETS).fill(0);
	for (let i = 0; i < 10_000; i++) {
		const bucket = bucketOf(`esp32-${(0x100000 + i * 7919).toString(16)}`);
		assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKETS);
		counts[bucket]++;
	}
	assert.ok(Math.min(...counts) > 50 && Math.max(...counts) < 150, `per bucket ${Math.min(...counts)}..${Math.max(...counts)} of 100 expected`);
	const inTenPercent = counts.slice(0, 10).reduce((a, b) => a + b, 0);
	assert.ok(inTenPercent > 800 && inTenPercent < 1200, `rollout 10 takes ${inTenPercent} of 10000`);
});

test("release: the delay is a whole number of ms within the window, 0 without one", () => {
	assert.equal(releaseDelay(0, () => 0.7), 0);
	assert.equal(releaseDelay(600_000, () => 0), 0);
	assert.equal(releaseDelay(600_000, () => 0.5), 300_000);
	assert.equal(releaseDelay(600_000, () => 0.9999999999), 599_999);
	assert.equal(releaseDelay(1, () => 0.99), 0);
	for (const r of [0.1, 0.33, 0.77])
		assert.ok(Number.isInteger(releaseDelay(10_000, () => r)));
});

test("release: a complete release parses; unknown fields are ignored, the hash is lower-cased", () => {
	assert.deepEqual(parseRelease(JSON.stringify(GOOD)), GOOD);
	assert.deepEqual(parseRelease(JSON.stringify({ ...GOOD, sha256: "AB".repeat(32), notes: "later tools may add fields" })), GOOD);
	for (const rollout of [0, 100])
		assert.equal((parseRelease(JSON.stringify({ ...GOOD, rollout })) as Release).rollout, rollout);
});

test("release: a missing field or a wrong type is E_SHAPE, naming the field", () => {
	for (const name of Object.keys(GOOD)) {
		const missing: Record<string, unknown> = { ...GOOD };
		delete missing[name];
		refused(JSON.stringify(missing), ReleaseFault.Shape, name);
	}
	refused(JSON.stringify({ ...GOOD, rollout: "10" }), ReleaseFault.Shape, "rollout");
	refused(JSON.stringify({ ...GOOD, size: null }), ReleaseFault.Shape, "size");
	refused(JSON.stringify({ ...GOOD, model: ["lin"] }), ReleaseFault.Shape, "nested");
	refused(JSON.stringify([GOOD]), ReleaseFault.Shape);
	refused("7", ReleaseFault.Shape, "object");
});

test("release: a rollout outside 0..100 and fields out of format are E_RANGE", () => {
	for (const rollout of [-1, 101, 10.5, 1e9])
		refused(JSON.stringify({ ...GOOD, rollout }), ReleaseFault.Range, "rollout");
	refused(JSON.stringify({ ...GOOD, size: 0 }), ReleaseFault.Range, "size");
	refused(JSON.stringify({ ...GOOD, url: "http://fw.example.com/x.bin" }), ReleaseFault.Range, "url");
	refused(JSON.stringify({ ...GOOD, sha256: "ab" }), ReleaseFault.Range, "sha256");
	refused(JSON.stringify({ ...GOOD, version: "1.2.0 beta" }), ReleaseFault.Range, "version");
	refused(JSON.stringify({ ...GOOD, model: "esp32//thing" }), ReleaseFault.Range, "model");
	refused(JSON.stringify({ ...GOOD, signature: "not base64!" }), ReleaseFault.Range, "signature");
	assert.equal(refused(JSON.stringify({ ...GOOD, rollout: 200 }), ReleaseFault.Range).version, "1.2.0", "the version is reported when it could be read");
});

test("release: 100 KB, deep nesting and non-JSON are refused before or instead of parsing", () => {
	refused(JSON.stringify({ ...GOOD, padding: "x".repeat(100 * 1024) }), ReleaseFault.TooLarge, String(RELEASE_MAX));
	refused("é".repeat(RELEASE_MAX / 2 + 1), ReleaseFault.TooLarge);
	refused("[".repeat(50_000), ReleaseFault.TooLarge);
	refused("[".repeat(900), ReleaseFault.Shape, "nested");
	refused("{\"a\":{\"b\":1}}", ReleaseFault.Shape, "nested");
	refused("{not json", ReleaseFault.Parse);
	refused("\uFFFD", ReleaseFault.Parse);
});
