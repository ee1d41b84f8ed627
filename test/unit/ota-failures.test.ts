/*
 * Every way an update fails, through the whole core (Device with fakes): each ends in
 * failed with its reason code, cancels the target (and a download still running),
 * never completes, never restarts, and leaves the device ready for the next update.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { OTA, ready, signedOta } from "./support/command-device";
import { FakeTarget, image, type TargetCall } from "./support/ota-fakes";
import { OtaReason, OtaState, STALL_TIMEOUT } from "../../modules/app/updates/ota";

const URL = "https://updates.example.com/fw.bin";
const { bytes: IMAGE, sha256: SHA } = image(20_000);
const HALF = IMAGE.subarray(0, 10_000);

type S = ReturnType<typeof ready>;

interface Case {
	name: string;
	code: OtaReason;
	/** Drives the download after ota.start; `s.fetcher.last` is the download. */
	drive(s: S): void;
	/** The fetcher was still sending when the update failed, so it must be cancelled. */
	live: boolean;
	/** Words the failure message contains. */
	mentions?: string;
	sha256?: string;
	/** The signed size (default the image's). */
	size?: number;
	target?: FakeTarget;
	/** The progress states, in order (download steps collapsed). */
	states?: string[];
	/** complete() was called (and threw): the one case where it is counted. */
	completeCalled?: boolean;
}

const throwing = (call: TargetCall) => {
	const target = new FakeTarget();
	target.throwOn.add(call);
	return target;
};

const CASES: Case[] = [
	{ name: "HTTP 404", code: OtaReason.Http, live: true, mentions: "404", drive: s => s.fetcher!.last.respond(404, 120) },
	{ name: "a redirect", code: OtaReason.Http, live: true, mentions: "302", drive: s => s.fetcher!.last.respond(302, 0) },
	{ name: "a TLS refusal", code: OtaReason.Network, live: false, mentions: "unknown authority", drive: s => s.fetcher!.last.error("certificate signed by unknown authority") },
	{ name: "no Content-Length", code: OtaReason.NoLength, live: true, mentions: "Content-Length", drive: s => s.fetcher!.last.respond(200, undefined) },
	{ name: "Content-Length 0", code: OtaReason.Length, live: true, drive: s => s.fetcher!.last.respond(200, 0) },
	{ name: "an image larger than the target", code: OtaReason.TooBig, live: true, mentions: "10000", target: new FakeTarget(10_000),
		drive: s => s.fetcher!.last.respond(200, IMAGE.length) },
	{ name: "a Content-Length above the signed size", code: OtaReason.TooBig, live: true, mentions: "signed size 19999", size: 19_999,
		drive: s => s.fetcher!.last.respond(200, IMAGE.length) },
	{ name: "a Content-Length below the signed size", code: OtaReason.Truncated, live: true, mentions: "signed size 20001", size: 20_001,
		drive: s => s.fetcher!.last.respond(200, IMAGE.length) },
	{ name: "a body longer than Content-Length", code: OtaReason.Length, live: true, mentions: "1000", size: 1_000,
		drive: s => { s.fetcher!.last.respond(200, 1_000); s.fetcher!.last.data(IMAGE.subarray(0, 1_001)); } },
	{ name: "a connection that ends early", code: OtaReason.Truncated, live: false, mentions: "10000 of 20000",
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.data(HALF); s.fetcher!.last.done(); } },
	{ name: "a connection cut mid-body", code: OtaReason.Truncated, live: false, mentions: "ECONNRESET",
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.data(HALF); s.fetcher!.last.error("socket hang up (ECONNRESET)"); } },
	{ name: "no response at all", code: OtaReason.Stall, live: true, mentions: "no data", drive: s => s.time.advance(STALL_TIMEOUT) },
	{ name: "a stalled body", code: OtaReason.Stall, live: true, mentions: "after 10001 bytes",
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.data(HALF); s.time.advance(STALL_TIMEOUT - 1); s.fetcher!.last.data(IMAGE.subarray(10_000, 10_001)); s.time.advance(STALL_TIMEOUT); } },
	{ name: "a wrong hash", code: OtaReason.Hash, live: false, sha256: "ab".repeat(32), states: ["downloading", "verifying", "failed"],
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.stream(IMAGE, 4_000); s.fetcher!.last.done(); } },
	{ name: "a corrupted byte", code: OtaReason.Hash, live: false,
		drive: s => { const bad = IMAGE.slice(); bad[12_345] ^= 1; s.fetcher!.last.respond(200, bad.length); s.fetcher!.last.data(bad); s.fetcher!.last.done(); } },
	{ name: "a target that refuses begin", code: OtaReason.Target, live: true, mentions: "flash begin", target: throwing("begin"),
		drive: s => s.fetcher!.last.respond(200, IMAGE.length) },
	{ name: "a target that fails a write", code: OtaReason.Target, live: true, mentions: "flash write", target: throwing("write"),
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.data(HALF); } },
	{ name: "a target that fails complete", code: OtaReason.Target, live: false, mentions: "flash complete", target: throwing("complete"), completeCalled: true,
		states: ["downloading", "verifying", "applying", "failed"],
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.data(IMAGE); s.fetcher!.last.done(); } },
	{ name: "the device stopping", code: OtaReason.Aborted, live: true,
		drive: s => { s.fetcher!.last.respond(200, IMAGE.length); s.fetcher!.last.data(HALF); s.device.stop(); } },
];

for (const c of CASES)
	test(`ota fails on ${c.name}: ${c.code}, target cancelled, nothing completed`, () => {
		const s = ready({ target: c.target ?? new FakeTarget() });
		const answer = s.send(signedOta({ url: URL, sha256: c.sha256 ?? SHA, version: "1.1.0", size: c.size ?? IMAGE.length }));
		assert.equal(answer.ok, true);
		const download = s.fetcher!.last;
		c.drive(s);

		assert.equal(s.device.ota.state, OtaState.Failed);
		const seen = s.transport.sessions.flatMap(session => session.on(OTA)).map(payload => JSON.parse(payload));
		const last = seen.at(-1);
		assert.equal(last.state, "failed");
		assert.equal(last.version, "1.1.0");
		assert.equal(last.error.code, c.code, JSON.stringify(last));
		assert.equal(typeof last.error.message, "string");
		if (c.mentions)
			assert.ok(last.error.message.includes(c.mentions), `${JSON.stringify(last.error.message)} mentions ${c.mentions}`);
		assert.equal(seen.filter(p => p.state === "failed").length, 1, "failed exactly once");
		if (c.states)
			assert.deepEqual(seen.map(p => p.state).filter((state, i, all) => state !== all[i - 1]), c.states);

		const target = s.target!;
		assert.equal(target.count("cancel"), 1, `target calls: ${target.calls.join(", ")}`);
		assert.equal(target.calls.at(-1), "cancel");
		assert.equal(target.count("complete"), c.completeCalled ? 1 : 0);
		assert.equal(target.bootImage, undefined, "nothing became bootable");
		assert.equal(download.cancelled, c.live, "the download is cancelled if and only if it was still running");
		assert.equal(s.device.ota.installed, undefined);
		s.time.advance(10_000);
		assert.deepEqual(s.system!.restarts, [], "no restart");
		if (c.code !== OtaReason.Aborted) {
			assert.equal(s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }, { id: "again" })).ok, true, "a new update may start");
			assert.equal(s.fetcher!.downloads.length, 2);
		}
	});

test("ota: a fetcher that throws on get fails with E_NETWORK and answers the command", () => {
	const s = ready();
	s.fetcher!.throwOnGet = new Error("no route");
	const answer = s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }));
	assert.equal(answer.ok, true);
	assert.equal(answer.state, "failed");
	const last = JSON.parse(s.transport.last.on(OTA).at(-1)!);
	assert.equal(last.error.code, "E_NETWORK");
	assert.ok(last.error.message.includes("no route"));
	assert.deepEqual(s.target!.calls, ["cancel"]);
});

test("ota: the failure message stays short and the payload small", () => {
	const s = ready();
	s.send(signedOta({ url: URL, sha256: SHA, version: "1.1.0", size: IMAGE.length }));
	s.fetcher!.last.error("x".repeat(5_000));
	const last = s.transport.last.on(OTA).at(-1)!;
	assert.ok(last.length < 400, `${last.length} bytes`);
	assert.ok(JSON.parse(last).error.message.endsWith("..."));
});

test("ota: the stall timer stops once the download is done", () => {
	const s = ready();
	s.send(signedOta({ url: URL, sha256: "ab".repeat(32), version: "1.1.0", size: IMAGE.length }));
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.data(IMAGE);
	s.fetcher!.last.done();
	s.time.advance(STALL_TIMEOUT * 2);
	const failed = s.transport.last.on(OTA).map(payload => JSON.parse(payload)).filter(p => p.state === "failed");
	assert.deepEqual(failed.map(p => p.error.code), ["E_HASH"]);
});
