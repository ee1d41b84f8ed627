/*
 * Fleet releases in the Linux simulator (XS): the firmware (model "lin", from the
 * manifest's platform section) follows the retained `fleet/lin/release`.
 * - A release signed for another model, put on its topic, is ignored with
 *   {"state":"ignored","error":{"code":"E_MODEL"}} and the device keeps publishing.
 * - A release for its model at rollout 100 is installed from the retained topic after
 *   the window's delay: scheduled -> downloading -> ... -> rebooting, the new boot
 *   says fw 1.1.0 and confirms it.
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { signUpdate } from "../../tools/ota-sign";
import { waitFor } from "../../tools/harness/wait";
import { parse } from "../../tools/harness/watcher";
import { sdkSkip, simulatedDevice } from "./support";

const RELEASE = "fleet/lin/release";

interface Progress { state: string; version?: string | null; delay?: number; error?: { code: string; message: string } }
interface Birth { online: boolean; fw?: string; reason?: string; model?: string }

describe("simulator: a fleet release from the retained topic", () => {
	const image = randomBytes(48 * 1024);
	const sha256 = createHash("sha256").update(image).digest("hex");
	const sim = simulatedDevice("sim-release", {
		config: { otaConfirmTimeout: 20_000, otaConfirmAfter: 2_000, releaseWindow: 2_000 },
		images: [["/fw.bin", { kind: "ok", body: image }]],
		seconds: 240,
		// Another model's release, forged onto this model's topic: retained before the device starts.
		beforeBoot: device => device.retain(RELEASE, release("sim/moddable_two", "1.1.0")),
	});
	const release = (model: string, version: string) => {
		const fields = { model, version, size: image.length, sha256 };
		const signature = signUpdate(sim.signingKey(), fields);
		return JSON.stringify({ ...fields, url: sim.images!.url("/fw.bin"), signature, rollout: 100 });
	};
	const progress = () => sim.messages<Progress>("ota");
	// The build's boot slots, in its own state folder (a fresh build starts with none).
	const slot = (name: string) => sim.stateFile(`${sim.id}-${name}.bin`);

	it("names its model in the birth and refuses a release for another model: E_MODEL, nothing fetched", { skip: sdkSkip }, async () => {
		const birth = sim.messages<Birth>("status").find(entry => entry.online)!;
		assert.equal(birth.model, "lin");
		const ignored = await waitFor("ignored", () => progress().find(entry => entry.state === "ignored"), 30_000);
		assert.equal(ignored.error?.code, "E_MODEL", JSON.stringify(ignored));
		assert.equal(ignored.version, "1.1.0");
		const readings = sim.messages("telemetry").length;
		await waitFor("readings continue", () => sim.messages("telemetry").length >= readings + 2, 15_000);
		assert.equal(sim.images!.requests.size, 0, "nothing fetched");
	});

	it("installs its model's release from the retained topic after the window's delay, boots it and confirms", { skip: sdkSkip }, async () => {
		await sim.retain(RELEASE, release("lin", "1.1.0"));
		const scheduled = await waitFor("scheduled", () => progress().find(entry => entry.state === "scheduled"), 30_000);
		assert.ok(scheduled.delay! >= 0 && scheduled.delay! < 2_000, `delay ${scheduled.delay} within the window`);
		await waitFor("confirmed", () => progress().some(entry => entry.state === "confirmed"), 120_000);
		const states = progress().map(entry => entry.state).filter((state, i, all) => state !== all[i - 1]);
		const from = states.indexOf("scheduled");
		assert.deepEqual(states.slice(from, from + 5), ["scheduled", "downloading", "verifying", "applying", "rebooting"], states.join(" "));
		// The new image sees the same retained release: not above its own version, so ignored (E_VERSION).
		await waitFor("the new image ignores the same release (E_VERSION)", () => progress().some(entry => entry.state === "ignored" && entry.error?.code === "E_VERSION"), 30_000);
		const birth = await sim.watcher.waitFor(sim.topic("status"), payload => (payload as Birth).fw === "1.1.0", 30_000);
		assert.equal((parse(birth.payload) as Birth).reason, "ota");
		assert.deepEqual(readFileSync(slot("installed")), image, "the installed slot is the release's image byte for byte");
		assert.equal(sim.images!.requests.get("/fw.bin"), 1);
	});
});
