/*
 * An update cannot be held open: the body's deadline (DEADLINE_BASE + size at
 * MIN_RATE) fails a download that drips inside the stall timeout, and ota.cancel ends
 * a running download (E_CANCELLED), is E_IDLE with nothing running and E_BUSY while
 * rebooting into an installed image.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { OTA, assertError, ready, signedOta } from "./support/command-device";
import { image } from "./support/ota-fakes";
import { DEADLINE_BASE, MIN_RATE, OtaState, REBOOT_DELAY, STALL_TIMEOUT } from "../../modules/app/updates/ota";

const URL = "https://updates.example.com/fw/1.1.0.bin";
const { bytes: IMAGE, sha256: SHA } = image(20_000);
const DEADLINE = DEADLINE_BASE + Math.ceil(IMAGE.length * 1000 / MIN_RATE);

type Progress = { state: string; received: number; error?: { code: string; message: string } };
const progress = (s: ReturnType<typeof ready>): Progress[] => s.transport.sessions.flatMap(session => session.on(OTA)).map(payload => JSON.parse(payload));
const start = (s: ReturnType<typeof ready>) => assert.equal(s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }, { id: "u" })).ok, true);

test("ota: a server dripping one byte every 2 s fails at the deadline with E_DEADLINE", () => {
	const s = ready();
	const idle = s.time.pending;
	start(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	let at = 0;
	for (let elapsed = 0; elapsed < DEADLINE - 2_000 && s.device.ota.state === OtaState.Downloading; elapsed += 2_000) {
		s.time.advance(2_000);
		s.fetcher!.last.data(IMAGE.subarray(at, ++at));
	}
	assert.equal(s.device.ota.state, OtaState.Downloading, "each byte came inside the stall timeout");
	assert.ok(2_000 < STALL_TIMEOUT);
	s.time.advance(2_000);
	assert.equal(s.device.ota.state, OtaState.Failed);
	const last = progress(s).at(-1)!;
	assert.equal(last.error?.code, "E_DEADLINE", JSON.stringify(last));
	assert.match(last.error!.message, new RegExp(`${MIN_RATE} bytes/s`));
	assert.equal(s.fetcher!.last.cancelled, true);
	assert.equal(s.target!.count("cancel"), 1);
	assert.equal(s.time.pending, idle, "no update timer is left");
});

test("ota: a download at the minimum rate finishes before the deadline", () => {
	const s = ready();
	start(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	for (let at = 0; at < IMAGE.length; at += MIN_RATE) {
		s.time.advance(1_000);
		s.fetcher!.last.data(IMAGE.subarray(at, at + MIN_RATE));
	}
	s.fetcher!.last.done();
	assert.equal(s.device.ota.state, OtaState.Rebooting);
	s.time.advance(REBOOT_DELAY);
	assert.deepEqual(s.system!.restarts, ["ota"]);
});

test("ota.cancel: ends a running download with E_CANCELLED and cleans up the target", () => {
	const s = ready();
	start(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE.subarray(0, 5_000));
	const answer = s.send({ id: "c", op: "ota.cancel" });
	assert.deepEqual(answer, { id: "c", ok: true, state: "failed", version: "1.1.0", received: 5_000 });
	assert.equal(progress(s).at(-1)!.error?.code, "E_CANCELLED");
	assert.equal(s.fetcher!.last.cancelled, true);
	assert.deepEqual(s.target!.calls.slice(-1), ["cancel"]);
	assert.equal(s.target!.bootImage, undefined);
	s.time.advance(DEADLINE);
	assert.equal(progress(s).filter(p => p.state === "failed").length, 1, "failed once");
	assert.equal(s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }, { id: "again" })).ok, true, "a new update may start");
});

test("ota.cancel: E_IDLE with nothing running, before or after an update", () => {
	const s = ready();
	assertError(s.send({ id: "c1", op: "ota.cancel" }), "c1", "E_IDLE", "no update");
	start(s);
	s.fetcher!.last.error("connection refused");
	assertError(s.send({ id: "c2", op: "ota.cancel" }), "c2", "E_IDLE");
	assertError(s.send({ id: "c3", op: "ota.cancel", now: true }), "c3", "E_SHAPE", "now");
});

test("ota.cancel: E_BUSY once the image is installed and the device reboots", () => {
	const s = ready();
	start(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE);
	s.fetcher!.last.done();
	assertError(s.send({ id: "c", op: "ota.cancel" }), "c", "E_BUSY", "rebooting");
	s.time.advance(REBOOT_DELAY);
	assert.deepEqual(s.system!.restarts, ["ota"]);
});

test("ota.cancel: E_UNAVAILABLE without update ports", () => {
	const s = ready({ fetcher: null });
	assertError(s.send({ id: "c", op: "ota.cancel" }), "c", "E_UNAVAILABLE");
});
