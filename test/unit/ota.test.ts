/*
 * The OTA state machine through the whole core (Device with fakes): every state in
 * order, progress every tenth, the reboot, and the refusals of ota.start.
 * Failure reasons are in ota-failures.test.ts.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { OTA, assertError, ready, signedOta } from "./support/command-device";
import { FakeTarget, image } from "./support/ota-fakes";
import { OtaState, REBOOT_DELAY, REBOOT_WAIT, UPDATE_HEADROOM } from "../../modules/app/updates/ota";
import { RETRY } from "../../modules/app/connection/outbox";
import { FIRMWARE_VERSION } from "../../modules/app/version";

const STATUS = "devices/node-1/status";
const TELEMETRY = "devices/node-1/telemetry";
const URL = "https://updates.example.com/fw/1.1.0.bin";
const { bytes: IMAGE, sha256: SHA } = image(20_000);

type Progress = { state: string; version: string; received: number; total: number | null; error?: { code: string; message: string } };

function progress(s: ReturnType<typeof ready>): Progress[] {
	return s.transport.sessions.flatMap(session => session.on(OTA)).map(payload => JSON.parse(payload));
}

function startOta(s: ReturnType<typeof ready>, extra: Record<string, unknown> = {}) {
	return s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }, extra));
}

test("ota: a good image goes downloading, verifying, applying, rebooting and restarts with reason ota", () => {
	const s = ready();
	assert.deepEqual(startOta(s), { id: "u", ok: true, state: "downloading", version: "1.1.0" });
	assert.equal(s.device.ota.state, OtaState.Downloading);
	assert.equal(s.fetcher!.last.url, URL);
	s.fetcher!.last.respond(200, IMAGE.length);
	assert.deepEqual(s.target!.calls, [`begin ${IMAGE.length}`]);
	s.fetcher!.last.stream(IMAGE, 1_000);
	assert.equal(s.target!.count("write"), 20);
	assert.equal(s.target!.count("complete"), 0, "nothing is bootable before the hash is checked");
	s.fetcher!.last.done();
	assert.deepEqual(s.target!.calls.slice(-1), ["complete 1.1.0"]);
	assert.deepEqual(s.target!.bootImage, IMAGE);
	assert.equal(s.device.ota.state, OtaState.Rebooting);
	assert.equal(s.device.ota.installed, "1.1.0");

	const seen = progress(s);
	assert.deepEqual(seen[0], { state: "downloading", version: "1.1.0", received: 0, total: null });
	assert.deepEqual(seen[1], { state: "downloading", version: "1.1.0", received: 0, total: IMAGE.length });
	assert.deepEqual(seen.slice(2, 12).map(p => p.received), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20].map(k => k * 1_000), "one message per tenth");
	assert.deepEqual(seen.slice(12), ["verifying", "applying", "rebooting"].map(state => ({ state, version: "1.1.0", received: IMAGE.length, total: IMAGE.length })));
	assert.equal(s.transport.last.published.filter(m => m.topic === OTA).every(m => !m.retain), true);

	s.time.advance(REBOOT_DELAY - 1);
	assert.deepEqual(s.system!.restarts, []);
	s.time.advance(1);
	assert.deepEqual(s.system!.restarts, ["ota"]);
	assert.deepEqual(s.transport.last.closes, [true], "stopped cleanly before the restart");
	assert.equal(s.transport.last.on(STATUS).at(-1), "{\"online\":false}");
	assert.equal(s.target!.count("cancel"), 0);
});

test("ota: progress is at least every tenth even with uneven chunks, and the last is the whole image", () => {
	const s = ready();
	startOta(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.stream(IMAGE, 777);
	const received = progress(s).filter(p => p.state === "downloading" && p.total !== null).map(p => p.received);
	for (let i = 1; i < received.length; i++)
		assert.ok(received[i] - received[i - 1] <= IMAGE.length / 10 + 777, `step ${received[i - 1]} -> ${received[i]}`);
	assert.equal(received.at(-1), IMAGE.length);
});

test("ota: upper-case sha256 is accepted and compared in lower case", () => {
	const s = ready();
	assert.equal(startOta(s, { sha256: SHA.toUpperCase() }).ok, true);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE);
	s.fetcher!.last.done();
	assert.equal(s.device.ota.state, OtaState.Rebooting);
});

test("ota: a second ota.start while one runs is E_BUSY; after a failure a new one starts", () => {
	const s = ready();
	startOta(s);
	assertError(startOta(s, { version: "1.2.0" }), "u", "E_BUSY", "1.1.0");
	assert.equal(s.fetcher!.downloads.length, 1);
	s.fetcher!.last.respond(500, 10);
	assert.equal(s.device.ota.state, OtaState.Failed);
	assert.equal(startOta(s).ok, true);
	assert.equal(s.fetcher!.downloads.length, 2);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE);
	s.fetcher!.last.done();
	assertError(startOta(s, { version: "1.3.0" }), "u", "E_BUSY", "rebooting");
});

test("ota: too little free heap is E_BUSY with the figures, nothing is fetched; enough starts it", () => {
	const s = ready();
	s.system!.heap = UPDATE_HEADROOM - 1;
	assertError(startOta(s), "u", "E_BUSY", `${UPDATE_HEADROOM - 1} B`);
	assert.equal(s.fetcher!.downloads.length, 0);
	assert.equal(s.device.ota.state, OtaState.Idle);
	s.system!.heap = UPDATE_HEADROOM;
	assert.equal(startOta(s).ok, true);
});

test("ota: the running version or a lower one is E_VERSION unless force:true", () => {
	const s = ready();
	assertError(startOta(s, { version: FIRMWARE_VERSION }), "u", "E_VERSION", FIRMWARE_VERSION);
	assertError(startOta(s, { version: "0.9.9" }), "u", "E_VERSION", "not above");
	assertError(startOta(s, { version: "1.0" }), "u", "E_VERSION", "1.0.0");
	assert.equal(s.fetcher!.downloads.length, 0);
	assert.deepEqual(progress(s), []);
	assertError(startOta(s, { version: FIRMWARE_VERSION, force: false }), "u", "E_VERSION");
	assert.equal(startOta(s, { version: FIRMWARE_VERSION, force: true }).ok, true);
	assert.equal(s.fetcher!.downloads.length, 1);
});

test("ota: firmwareVersion is what birth, status and the version check use; versions compare by number", () => {
	const s = ready({ firmwareVersion: "1.9.0" });
	assert.equal(JSON.parse(s.transport.last.on(STATUS)[0]).fw, "1.9.0");
	assert.equal(s.send({ id: "st", op: "status" }).fw, "1.9.0");
	assertError(startOta(s, { version: "1.9.0" }), "u", "E_VERSION");
	assertError(startOta(s, { version: "1.8.10" }), "u", "E_VERSION", "not above the running 1.9.0");
	assert.equal(startOta(s, { version: "1.10.0" }).ok, true, "1.10 is above 1.9");
});

test("ota: arguments are validated before anything starts (E_SHAPE, E_RANGE)", () => {
	const s = ready();
	const bad = (extra: Record<string, unknown>, code: string, mentions: string) => assertError(startOta(s, extra), "u", code, mentions);
	bad({ url: 7 }, "E_SHAPE", "url");
	bad({ sha256: null }, "E_SHAPE", "sha256");
	bad({ version: 1.1 }, "E_SHAPE", "version");
	bad({ force: "yes" }, "E_SHAPE", "force");
	bad({ force: 1 }, "E_SHAPE", "force");
	bad({ extra: 1 }, "E_SHAPE", "extra");
	assertError(s.send({ id: "u", op: "ota.start", sha256: SHA, version: "1.1.0", size: 1 }), "u", "E_SHAPE", "url");
	assertError(s.send({ id: "u", op: "ota.start", url: URL, sha256: SHA, version: "1.1.0" }), "u", "E_SHAPE", "size");
	bad({ size: 0 }, "E_RANGE", "size");
	bad({ size: 1.5 }, "E_RANGE", "size");
	bad({ size: "10" }, "E_SHAPE", "size");
	bad({ signature: 7 }, "E_SHAPE", "signature");
	bad({ url: "http://updates.example.com/fw.bin" }, "E_RANGE", "url");
	bad({ url: "HTTPS://updates.example.com/fw.bin" }, "E_RANGE", "url");
	bad({ url: "https://" }, "E_RANGE", "url");
	bad({ url: "https://user:pw@updates.example.com/fw.bin" }, "E_RANGE", "url");
	bad({ url: "https://updates.example.com/a b.bin" }, "E_RANGE", "url");
	bad({ url: "https://updates.example.com/" + "x".repeat(200) }, "E_RANGE", "url");
	bad({ sha256: SHA.slice(1) }, "E_RANGE", "sha256");
	bad({ sha256: SHA + "0" }, "E_RANGE", "sha256");
	bad({ sha256: "g" + SHA.slice(1) }, "E_RANGE", "sha256");
	bad({ version: "" }, "E_RANGE", "version");
	bad({ version: "1".repeat(33) }, "E_RANGE", "version");
	bad({ version: "1.1.0 beta" }, "E_RANGE", "version");
	bad({ version: "1/1" }, "E_RANGE", "version");
	assert.equal(s.fetcher!.downloads.length, 0);
	assert.deepEqual(s.target!.calls, []);
	assert.equal(startOta(s, { url: "https://10.0.0.5:8443/fw.bin?v=2", version: "1.1.0+build.7" }).ok, true, "port, query and build metadata are fine");
	assert.deepEqual(s.fetcher!.downloads.map(d => d.url), ["https://10.0.0.5:8443/fw.bin?v=2"]);
});

test("ota: a URL port outside 1..65535 is E_RANGE before anything is fetched (port 0 dialled 443 on Node)", () => {
	const s = ready();
	for (const port of ["0", "00", "65536", "99999", "0443"])
		assertError(startOta(s, { url: `https://updates.example.com:${port}/fw.bin` }), "u", "E_RANGE", "url");
	assert.equal(s.fetcher!.downloads.length, 0);
	assert.equal(startOta(s, { url: "https://updates.example.com:65535/fw.bin", version: "1.1.0" }).ok, true);
	s.send({ id: "c", op: "ota.cancel" });
	assert.equal(startOta(s, { url: "https://updates.example.com:1/fw.bin", version: "1.1.0" }).ok, true);
	assert.deepEqual(s.fetcher!.downloads.map(d => d.url), ["https://updates.example.com:65535/fw.bin", "https://updates.example.com:1/fw.bin"]);
});

test("ota: without fetcher, target or system ota.start is E_UNAVAILABLE", () => {
	for (const missing of [{ fetcher: null }, { target: null }, { system: null }]) {
		const s = ready(missing);
		assertError(startOta(s), "u", "E_UNAVAILABLE", "ota");
		assert.deepEqual(progress(s), []);
	}
});

test("ota: telemetry and commands keep working during a download", () => {
	const s = ready();
	startOta(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	const seqs = () => s.transport.last.on(TELEMETRY).map(payload => JSON.parse(payload).seq as number);
	const before = seqs().length;
	for (let at = 0; at < IMAGE.length; at += 5_000) {
		s.fetcher!.last.data(IMAGE.subarray(at, at + 5_000));
		s.time.advance(1_000);
	}
	assert.equal(seqs().length, before + 4);
	assert.deepEqual(seqs(), seqs().map((_, i) => i + 1), "seq keeps counting");
	assert.equal(s.send({ id: "st", op: "status" }).ok, true);
	assert.equal(s.send({ id: "g", op: "gpio.set", pin: "led", value: 1 }).value, 1);
	s.fetcher!.last.done();
	assert.equal(s.device.ota.state, OtaState.Rebooting);
});

test("ota: a full socket delays progress but loses no state change; the restart waits for it", () => {
	const s = ready();
	const session = s.transport.last;
	session.onPublish = topic => topic === OTA ? "full" : "ok";
	startOta(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.stream(IMAGE, 1_000);
	s.fetcher!.last.done();
	assert.deepEqual(session.on(OTA), []);
	s.time.advance(REBOOT_DELAY);
	assert.deepEqual(s.system!.restarts, [], "the restart waits while progress is queued");
	session.onPublish = () => "ok";
	s.time.advance(RETRY);
	assert.deepEqual(progress(s).map(p => `${p.state} ${p.received}/${p.total}`), [
		"downloading 0/null", "downloading 20000/20000", "verifying 20000/20000", "applying 20000/20000", "rebooting 20000/20000",
	], "download steps are latest-wins, state changes all arrive in order");
	s.time.advance(REBOOT_DELAY);
	assert.deepEqual(s.system!.restarts, ["ota"]);
});

test("ota: a socket that stays full delays the restart by REBOOT_WAIT at most", () => {
	const s = ready();
	s.transport.last.onPublish = topic => topic === OTA ? "full" : "ok";
	startOta(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE);
	s.fetcher!.last.done();
	s.time.advance(REBOOT_WAIT - 1);
	assert.deepEqual(s.system!.restarts, []);
	s.time.advance(1);
	assert.deepEqual(s.system!.restarts, ["ota"]);
});

test("ota: progress made offline waits for the next session, newest download step only", () => {
	const s = ready({ target: new FakeTarget() });
	startOta(s);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE.subarray(0, 5_000));
	const first = s.transport.last;
	const before = first.on(OTA).length;
	first.closeByPeer("keepalive lost");
	s.fetcher!.last.data(IMAGE.subarray(5_000, 15_000));	// the download goes on without the broker
	s.time.advance(5_000);	// well inside the stall timeout
	assert.ok(s.transport.opens > 1, "reconnecting");
	assert.equal(first.on(OTA).length, before);
	const next = s.transport.last;
	next.ready();
	assert.deepEqual(next.on(OTA).map(payload => JSON.parse(payload).received), [15_000]);
	s.fetcher!.last.data(IMAGE.subarray(15_000));
	s.fetcher!.last.done();
	assert.deepEqual(next.on(OTA).map(payload => JSON.parse(payload).state).slice(-3), ["verifying", "applying", "rebooting"]);
});
