/*
 * Fleet releases through the whole core (Device with fakes): the retained release is
 * installed when the device's bucket is in the rollout, after the window's delay;
 * bad releases are ignored with a report; a release that changes mid-download cancels
 * it cleanly; release.install ignores the bucket; the Home Assistant entity state.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MODEL, OTA, ready } from "./support/command-device";
import { Signer, TEST_SIGNER, image } from "./support/ota-fakes";
import { bucketOf } from "../../modules/app/updates/release";
import { OtaState } from "../../modules/app/updates/ota";
import { KEY } from "../../modules/app/config/settings";
import { TOO_LARGE } from "../../modules/app/ports";

const RELEASE = "fleet/test-board/release";
const UPDATE = "devices/node-1/update";
const BUCKET = bucketOf("node-1");	// 87
const WINDOW = 600_000;				// the default releaseWindow; scriptedRandom 0.5 makes it 300000
const { bytes: IMAGE, sha256: SHA } = image(20_000);

function release(fields: Record<string, unknown> = {}, signer = TEST_SIGNER): string {
	const body = { model: MODEL, version: "1.1.0", size: IMAGE.length, sha256: SHA, url: "https://fw.example.com/1.1.0.bin", rollout: 100, ...fields };
	const signature = signer.sign({ model: String(body.model), version: String(body.version), size: Number(body.size), sha256: String(body.sha256) });
	return JSON.stringify({ ...body, signature, ...fields });
}

function reports(s: ReturnType<typeof ready>): { state: string; version: string | null; delay?: number; error?: { code: string; message: string } }[] {
	return s.transport.sessions.flatMap(session => session.on(OTA)).map(payload => JSON.parse(payload));
}

test("fleet: a release whose rollout includes the bucket is installed after the window's delay", () => {
	const s = ready();
	assert.ok(s.transport.last.subscriptions.includes(RELEASE));
	s.transport.last.message(RELEASE, release({ rollout: BUCKET + 1 }), true);
	assert.deepEqual(reports(s), [{ state: "scheduled", version: "1.1.0", delay: WINDOW / 2 }]);
	s.time.advance(WINDOW / 2 - 1);
	assert.equal(s.fetcher!.downloads.length, 0, "nothing fetched before the delay");
	s.time.advance(1);
	assert.equal(s.fetcher!.last.url, "https://fw.example.com/1.1.0.bin");
	assert.equal(s.device.ota?.state, OtaState.Downloading);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.stream(IMAGE, 5_000);
	s.fetcher!.last.done();
	assert.equal(s.device.ota?.state, OtaState.Rebooting);
	assert.deepEqual(s.target!.bootImage, IMAGE);
});

test("fleet: a rollout at or below the bucket installs nothing; raising it includes the device", () => {
	const s = ready();
	s.transport.last.message(RELEASE, release({ rollout: BUCKET }), true);
	s.transport.last.message(RELEASE, release({ rollout: 0 }), true);
	s.time.advance(2 * WINDOW);
	assert.equal(s.fetcher!.downloads.length, 0);
	assert.deepEqual(reports(s), [], "waiting for its stage is not reported");
	assert.equal(s.device.updates.fleet!.latest?.version, "1.1.0", "but it is the latest version");
	s.transport.last.message(RELEASE, release({ rollout: 100 }), true);
	s.time.advance(WINDOW);
	assert.equal(s.fetcher!.downloads.length, 1);
});

test("fleet: bad releases are ignored with one trace line and an ignored report; the device goes on", () => {
	const s = ready();
	const cases: [string, string][] = [
		[release({}, new Signer()), "E_SIGNATURE"],
		[release({ signature: TEST_SIGNER.sign({ model: MODEL, version: "1.1.0", size: 1, sha256: SHA }) }), "E_SIGNATURE"],
		[release({ model: "esp32/esp32_thing" }), "E_MODEL"],
		[release({ version: "1.0.0" }), "E_VERSION"],
		[release({ version: "0.9.0" }), "E_VERSION"],
		[release({ rollout: 101 }), "E_RANGE"],
		[release({ rollout: -1 }), "E_RANGE"],
		[JSON.stringify({ model: MODEL, version: "1.1.0" }), "E_SHAPE"],
		[release({ notes: "x".repeat(100 * 1024) }), "E_TOO_LARGE"],
		[TOO_LARGE, "E_TOO_LARGE"],	// what the XS transport hands on for one it did not read
		["{", "E_PARSE"],
	];
	for (const [payload, code] of cases) {
		const before = s.log.lines.length;
		s.transport.last.message(RELEASE, payload, true);
		const last = reports(s).at(-1)!;
		assert.equal(last.state, "ignored");
		assert.equal(last.error?.code, code, `${payload.slice(0, 60)}: ${last.error?.message}`);
		assert.equal(s.log.lines.slice(before).filter(line => line.startsWith("fleet:")).length, 1, "one trace line");
	}
	s.time.advance(2 * WINDOW);
	assert.equal(s.fetcher!.downloads.length, 0, "nothing fetched");
	assert.equal(s.send({ id: "s", op: "status" }).ok, true, "still answering");
});

test("fleet: the retained release repeated on every connect is handled once", () => {
	for (const payload of [release({ version: "1.0.0" }), TOO_LARGE]) {
		const s = ready();
		s.transport.last.message(RELEASE, payload, true);
		s.transport.last.message(RELEASE, payload, true);
		assert.equal(reports(s).length, 1);
		assert.equal(s.log.lines.filter(line => line.startsWith("fleet:")).length, 1, "one trace line");
	}
});

test("fleet: a release that changes mid-download cancels it; the new image is downloaded whole from byte 0", () => {
	const s = ready({ raw: { releaseWindow: "0" } });
	s.transport.last.message(RELEASE, release(), true);
	s.time.advance(0);
	const first = s.fetcher!.last;
	first.respond(200, IMAGE.length);
	first.stream(IMAGE.subarray(0, 10_000), 5_000);
	const { bytes: NEXT, sha256: NEXT_SHA } = image(20_000, 9);
	s.transport.last.message(RELEASE, release({ version: "1.2.0", sha256: NEXT_SHA, url: "https://fw.example.com/1.2.0.bin" }), true);
	assert.equal(first.cancelled, true, "the old download is cancelled");
	assert.ok(reports(s).some(r => r.state === "failed" && r.version === "1.1.0" && r.error?.code === "E_CANCELLED"));
	s.time.advance(0);
	const second = s.fetcher!.last;
	assert.equal(second.url, "https://fw.example.com/1.2.0.bin");
	second.respond(200, NEXT.length);
	second.stream(NEXT, 5_000);
	second.done();
	assert.deepEqual(s.target!.bootImage, NEXT, "exactly the new image, never a mix");
	assert.equal(s.storage.get(KEY.releaseFailed), undefined, "a superseded download is not a failure");
});

test("fleet: a halt (rollout 0) or a withdrawn release cancels the running release download", () => {
	for (const halt of [release({ rollout: 0 }), ""]) {
		const s = ready({ raw: { releaseWindow: "0" } });
		s.transport.last.message(RELEASE, release(), true);
		s.time.advance(0);
		s.fetcher!.last.respond(200, IMAGE.length);
		s.transport.last.message(RELEASE, halt, true);
		assert.equal(s.fetcher!.last.cancelled, true);
		assert.equal(s.device.ota?.state, OtaState.Failed);
		assert.equal(s.target!.bootImage, undefined);
	}
});

test("fleet: a release download that failed is not installed again by the rollout", () => {
	const s = ready({ raw: { releaseWindow: "0" } });
	s.transport.last.message(RELEASE, release(), true);
	s.time.advance(0);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.stream(new Uint8Array(IMAGE.length), 5_000);
	s.fetcher!.last.done();
	assert.equal(reports(s).at(-1)?.error?.code, "E_HASH");
	assert.equal(s.storage.get(KEY.releaseFailed), "1.1.0");
	s.transport.last.message(RELEASE, release({ rollout: 99 }), true);
	assert.equal(reports(s).at(-1)?.error?.code, "E_VERSION");
	assert.ok(reports(s).at(-1)?.error?.message.includes("failed on this device"));
	s.time.advance(WINDOW);
	assert.equal(s.fetcher!.downloads.length, 1);
});

test("fleet: release.install installs the latest release now, whatever the bucket", () => {
	const s = ready();
	assert.equal(s.send({ id: "i", op: "release.install" }).error.code, "E_IDLE");
	s.transport.last.message(RELEASE, release({ rollout: 0 }), true);
	assert.deepEqual(s.send({ id: "i", op: "release.install" }), { id: "i", ok: true, state: "downloading", version: "1.1.0" });
	assert.equal(s.fetcher!.downloads.length, 1);
	assert.equal(s.send({ id: "j", op: "release.install" }).error.code, "E_BUSY");
	const older = ready();
	older.transport.last.message(RELEASE, release({ version: "1.0.0" }), true);
	assert.equal(older.send({ id: "i", op: "release.install" }).error.code, "E_VERSION");
	const unnamed = ready({ raw: { model: "" } });
	assert.equal(unnamed.send({ id: "i", op: "release.install" }).error.code, "E_UNAVAILABLE");
	assert.ok(!unnamed.transport.last.subscriptions.some(topic => topic.endsWith("/release")));
});

test("fleet: the Home Assistant update entity shows installed, latest and progress, retained", () => {
	const s = ready({ raw: { haDiscovery: "true", releaseWindow: "0" } });
	const states = () => s.transport.sessions.flatMap(session => session.published.filter(m => m.topic === UPDATE));
	assert.deepEqual(JSON.parse(states().at(-1)!.payload), { installed_version: "1.0.0", latest_version: "1.0.0", in_progress: false, update_percentage: null });
	assert.equal(states().at(-1)!.retain, true);
	s.transport.last.message(RELEASE, release({ rollout: 0 }), true);
	assert.equal(JSON.parse(states().at(-1)!.payload).latest_version, "1.1.0");
	const { dev, o, avty_t, avty_tpl, ...entity } = JSON.parse(s.transport.last.published.find(m => m.topic === "homeassistant/update/node-1/update/config")!.payload);
	assert.deepEqual(entity, {
		name: "firmware", uniq_id: "node-1_update", stat_t: UPDATE, cmd_t: "devices/node-1/cmd",
		pl_inst: "{\"op\":\"release.install\"}", dev_cla: "firmware", ent_cat: "config",
	});
	assert.ok(dev && o && avty_t && avty_tpl);
	s.send({ id: "i", op: "release.install" });
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.stream(IMAGE.subarray(0, 10_000), 10_000);
	assert.deepEqual(JSON.parse(states().at(-1)!.payload), { installed_version: "1.0.0", latest_version: "1.1.0", in_progress: true, update_percentage: 50 });
});
