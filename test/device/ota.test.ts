/*
 * Signed over-the-air update in the Linux simulator: the real XS fetcher (http over
 * securesocket, the bundled CA), SHA-256 and ECDSA P-256 from the SDK's crypt modules,
 * and the file-backed target with its boot slots. The firmware bundles the fixture's
 * update-signing public key and confirms an update within a short otaConfirmTimeout.
 * - A missing signature and one by another key are E_SIGNATURE: the image server sees
 *   no request, nothing is written.
 * - A tampered image (signed size and hash of the real one) fails E_HASH; the old
 *   image keeps running.
 * - A good image goes downloading -> verifying -> applying -> rebooting, boots with
 *   reason "ota" and confirms itself: {"state":"confirmed"}; then a lower version is
 *   E_VERSION.
 * - A good image whose boot never reaches the broker (the proxy refuses) rolls back
 *   after otaConfirmTimeout; the next birth says "rollback" and the ota topic names
 *   the failed version.
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { signUpdate } from "../../tools/ota-sign";
import { waitFor } from "../../tools/harness/wait";
import { parse } from "../../tools/harness/watcher";
import { sdkSkip, simulatedDevice } from "./support";

const CONFIRM_TIMEOUT = 12_000;	// ms: otaConfirmTimeout of this build (it confirms after otaConfirmAfter 2 s online)

interface Progress {
	state: string;
	version?: string;
	received?: number;
	total?: number | null;
	error?: { code: string };
	cause?: string;
	running?: string;
}
interface Birth { online: boolean; fw?: string; reason?: string }

describe("simulator: signed over-the-air update with boot confirmation", () => {
	const image = randomBytes(96 * 1024);	// about 2.5 s at the simulator's socket speed
	const sha256 = createHash("sha256").update(image).digest("hex");
	const tampered = Buffer.from(image);
	tampered[50_000] ^= 0x01;
	const sim = simulatedDevice("sim-ota", {
		config: { otaConfirmTimeout: CONFIRM_TIMEOUT, otaConfirmAfter: 2_000 },
		relay: true,
		images: [["/fw.bin", { kind: "ok", body: image }], ["/tampered.bin", { kind: "ok", body: tampered }]],
		seconds: 240,
	});
	// The simulator target keeps its slots in the build's own state folder (a fresh build starts with none).
	const SLOT = (slot: string) => sim.stateFile(`${sim.id}-${slot}.bin`);
	const PARTIAL = () => sim.stateFile(`${sim.id}-ota.part`);

	const signed = (version: string, url = sim.images!.url("/fw.bin")) => {
		const fields = { model: "lin", version, size: image.length, sha256 };
		return { op: "ota.start", url, ...fields, signature: signUpdate(sim.signingKey(), fields) };
	};
	const command = (fields: Record<string, unknown>) => sim.command(fields);
	const progress = (from = 0) => sim.messages<Progress>("ota", from);
	const births = (from = 0) => sim.messages<Birth>("status", from).filter(birth => birth.online);
	/** With SMN_TEST_LOGS=1: what the broker saw on the ota and status topics since `from` ota messages. */
	const show = (from: number) => {
		if (process.env.SMN_TEST_LOGS === "1")
			for (const message of sim.watcher.on(sim.topic("ota")).slice(from).filter(m => !m.payload.includes("\"downloading\"")))
				console.log(`[broker] ${message.topic} ${message.payload}`);
	};
	const seq = () => Math.max(0, ...sim.messages<{ seq: number }>("telemetry").map(reading => reading.seq));

	it("refuses a missing signature and one by another key: E_SIGNATURE, nothing fetched or written", { skip: sdkSkip }, async () => {
		const { signature: _, ...unsigned } = signed("1.1.0");
		const missing = await command(unsigned);
		assert.equal(missing.error?.code, "E_SIGNATURE", JSON.stringify(missing));
		const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
		const foreign = await command({ ...unsigned, signature: signUpdate(other, { model: "lin", version: "1.1.0", size: image.length, sha256 }) });
		assert.equal(foreign.error?.code, "E_SIGNATURE", JSON.stringify(foreign));
		assert.match(foreign.error!.message, /not by the bundled/);
		assert.equal(sim.images!.requests.size, 0, "the image server saw no request");
		assert.ok(!existsSync(PARTIAL()) && !existsSync(SLOT("pending")), "nothing written");
		assert.deepEqual(progress(), []);
	});

	it("fails a tampered image with E_HASH and keeps the old image", { skip: sdkSkip }, async () => {
		assert.equal((await command(signed("1.1.0", sim.images!.url("/tampered.bin")))).ok, true);
		const failed = await waitFor("failed", () => progress().find(entry => entry.state === "failed"), 60_000);
		assert.equal(failed.error?.code, "E_HASH");
		assert.equal(failed.received, image.length, "the whole image was hashed before refusing it");
		assert.ok(!existsSync(SLOT("pending")), "nothing made bootable");
		assert.ok(!existsSync(PARTIAL()), "the partial image was discarded");
		const before = seq();
		await waitFor("readings continue", () => seq() >= before + 2, 15_000);
		assert.equal((await command({ op: "status" }) as unknown as { fw: string }).fw, "1.0.0");
	});

	it("installs a good image: downloading -> verifying -> applying -> rebooting -> confirmed; then a downgrade is E_VERSION", { skip: sdkSkip }, async () => {
		const start = progress().length;
		const birthsBefore = sim.messages("status").length;
		assert.equal((await command(signed("1.1.0"))).ok, true);
		await waitFor("confirmed", () => progress(start).some(entry => entry.state === "confirmed"), 90_000);
		const states = progress(start).map(entry => entry.state).filter((state, i, all) => state !== all[i - 1]);
		assert.deepEqual(states, ["downloading", "verifying", "applying", "rebooting", "confirmed"]);
		assert.ok(progress(start).filter(entry => entry.state === "downloading").length >= 10, "progress at least every 10%");
		assert.deepEqual(progress(start).at(-1), { state: "confirmed", version: "1.1.0", boots: 1 });
		assert.deepEqual(births(birthsBefore).map(birth => [birth.fw, birth.reason]), [["1.1.0", "ota"]]);
		assert.deepEqual(readFileSync(SLOT("installed")), image, "the installed slot is the image byte for byte");
		assert.ok(!existsSync(SLOT("pending")));

		show(start);
		const downgrade = await command(signed("1.0.5"));
		assert.equal(downgrade.error?.code, "E_VERSION", JSON.stringify(downgrade));
		assert.match(downgrade.error!.message, /not above the running 1\.1\.0/);
	});

	it("rolls back an image whose boot never reaches the broker, after otaConfirmTimeout; the next birth says rollback", { skip: sdkSkip }, async () => {
		const start = progress().length;
		const birthsBefore = sim.messages("status").length;
		const linesBefore = sim.simulator.lines.length;
		assert.equal((await command(signed("1.2.0"))).ok, true);
		await waitFor("rebooting", () => progress(start).some(entry => entry.state === "rebooting"), 60_000);
		sim.relay!.refuse(true);	// from now on the broker is unreachable
		sim.relay!.cut();
		const trace = () => sim.simulator.lines.slice(linesBefore);
		await waitFor("the 1.2.0 boot on trial", () => trace().some(line => line.includes("1.2.0 is on trial")), 15_000);
		await waitFor("the rollback", () => trace().some(line => line.includes("rolling back")), CONFIRM_TIMEOUT + 10_000);
		sim.relay!.refuse(false);	// the broker is back for the image after the rollback

		const birth = await sim.watcher.waitFor(sim.topic("status"), payload => (payload as Birth).reason === "rollback", 30_000);
		if (process.env.SMN_TEST_LOGS === "1")
			console.log(`[broker] ${birth.topic} ${birth.payload}`);
		assert.deepEqual((parse(birth.payload) as Birth).fw, "1.1.0");
		assert.ok(births(birthsBefore).every(entry => entry.fw !== "1.2.0"), "1.2.0 never came online");
		const report = await waitFor("rolled-back", () => progress(start).find(entry => entry.state === "rolled-back"), 15_000);
		assert.deepEqual(report, { state: "rolled-back", version: "1.2.0", running: "1.1.0", cause: `not confirmed within ${CONFIRM_TIMEOUT} ms` });
		assert.deepEqual(readFileSync(SLOT("installed")), image, "the installed image is untouched");
		assert.ok(!existsSync(SLOT("pending")), "the failed image is gone");
		show(start);
	});
});
