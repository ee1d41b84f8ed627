/*
 * Over-the-air update in the Linux simulator: the real XS fetcher (http over
 * securesocket, the bundled CA), SHA-256 from crypt and the file-backed target.
 * A wrong hash fails with E_HASH and records nothing; a good image goes through the
 * states in order, is recorded byte for byte, and the app restarts with reason "ota".
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-ota";
const TOPIC = (leaf: string) => `devices/${ID}/${leaf}`;
// The simulator target writes under mc/config's file root, /tmp/ on lin.
const RECORDED = `/tmp/${ID}-ota.bin`;
const PARTIAL = `/tmp/${ID}-ota.part`;

interface Progress {
	state: string;
	received?: number;
	total?: number | null;
	error?: { code: string };
}

describe("simulator: over-the-air update", () => {
	let fixture: DeviceFixture;
	let images: ImageServer;
	let watcher: Watcher;
	const image = randomBytes(96 * 1024);	// about 2.5 s at the simulator's socket speed
	const sha256 = createHash("sha256").update(image).digest("hex");

	before(async () => {
		if (sdkSkip)
			return;
		rmSync(RECORDED, { force: true });
		rmSync(PARTIAL, { force: true });
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		images = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => images.close());
		images.route("/fw.bin", { kind: "ok", body: image });
		const library = await fixture.build(broker.port, ID);
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`] });
		fixture.simulate(library);
		await watcher.waitFor(TOPIC("status"), payload => (payload as { online?: boolean }).online === true, 60_000);
	});
	after(() => fixture?.cleanup());

	/** Sends a command and returns its answer; re-sends while the device is still settling. */
	const command = async (fields: Record<string, unknown>): Promise<{ ok: boolean; error?: { code: string } }> => {
		for (let attempt = 1; ; attempt++) {
			const id = `${fields.op}-${attempt}-${Date.now()}`;
			await watcher.publish(TOPIC("cmd"), JSON.stringify({ id, ...fields }));
			const answer = await watcher.waitFor(TOPIC("cmd/result"), payload => (payload as { id?: string }).id === id, 15_000);
			const result = parse(answer.payload) as { ok: boolean; error?: { code: string } };
			// Commands that arrive before the device's settle marker are refused as possibly retained.
			if (result.error?.code !== "E_RETAINED" || attempt >= 5)
				return result;
			await new Promise(resolve => setTimeout(resolve, 500));
		}
	};
	const progress = () => watcher.on(TOPIC("ota")).map(message => parse(message.payload) as Progress);
	const seq = () => Math.max(0, ...watcher.on(TOPIC("telemetry")).map(message => (parse(message.payload) as { seq: number }).seq));

	it("refuses an image whose SHA-256 does not match, recording nothing", { skip: sdkSkip }, async () => {
		const wrong = sha256.replace(/^./, sha256[0] === "0" ? "1" : "0");
		assert.equal((await command({ op: "ota.start", url: images.url("/fw.bin"), sha256: wrong, version: "1.1.0" })).ok, true);
		const failed = await waitFor("failed", () => progress().find(entry => entry.state === "failed"), 60_000);
		assert.equal(failed.error?.code, "E_HASH");
		assert.equal(failed.received, image.length, "the whole image was hashed before refusing it");
		assert.ok(!existsSync(RECORDED), "no image recorded");
		assert.ok(!existsSync(PARTIAL), "the partial image was discarded");
		const before = seq();
		await waitFor("readings continue", () => seq() >= before + 2, 15_000);
	});

	it("installs a good image: states in order, recorded byte for byte, restart with reason ota", { skip: sdkSkip }, async () => {
		const start = watcher.on(TOPIC("ota")).length;
		assert.equal((await command({ op: "ota.start", url: images.url("/fw.bin"), sha256, version: "1.1.0" })).ok, true);
		await waitFor("rebooting", () => progress().slice(start).some(entry => entry.state === "rebooting"), 60_000);
		const states = progress().slice(start).map(entry => entry.state).filter((state, i, all) => state !== all[i - 1]);
		assert.deepEqual(states, ["downloading", "verifying", "applying", "rebooting"]);
		const downloading = progress().slice(start).filter(entry => entry.state === "downloading");
		assert.ok(downloading.length >= 10, `progress at least every 10% (${downloading.length} messages)`);
		assert.deepEqual(readFileSync(RECORDED), image);
		const births = () => watcher.on(TOPIC("status")).map(message => parse(message.payload) as { online: boolean; reason?: string });
		await waitFor("a birth after the restart", () => births().some(birth => birth.online && birth.reason === "ota"), 30_000);
	});
});
