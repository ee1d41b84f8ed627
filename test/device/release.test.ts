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
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { signUpdate } from "../../tools/ota-sign";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { waitFor } from "../../tools/harness/wait";
import { parse, type Watcher } from "../../tools/harness/watcher";
import { DeviceFixture, sdkSkip } from "./support";
import { simulatorStateDir } from "../../tools/sdk";

const ID = "sim-release";
const TOPIC = (leaf: string) => `devices/${ID}/${leaf}`;
const RELEASE = "fleet/lin/release";
// The build's boot slots, in its own state folder (a fresh build starts with none).
const slot = (library: string, name: string) => join(simulatorStateDir(library), `${ID}-${name}.bin`);

interface Progress { state: string; version?: string | null; delay?: number; error?: { code: string; message: string } }
interface Birth { online: boolean; fw?: string; reason?: string; model?: string }

describe("simulator: a fleet release from the retained topic", () => {
	let fixture: DeviceFixture;
	let images: ImageServer;
	let watcher: Watcher;
	let library: string;
	const image = randomBytes(48 * 1024);
	const sha256 = createHash("sha256").update(image).digest("hex");
	const release = (model: string, version: string) => {
		const fields = { model, version, size: image.length, sha256 };
		const signature = signUpdate(readFileSync(join(fixture.pkiDir, "ota-signing.key")), fields);
		return JSON.stringify({ ...fields, url: images.url("/fw.bin"), signature, rollout: 100 });
	};
	const progress = () => watcher.on(TOPIC("ota")).map(message => parse(message.payload) as Progress);

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		const broker = await fixture.broker();
		images = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => images.close());
		images.route("/fw.bin", { kind: "ok", body: image });
		library = await fixture.build(broker.port, ID, { otaConfirmTimeout: 20_000, otaConfirmAfter: 2_000, releaseWindow: 2_000 });
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`] });
		// Another model's release, forged onto this model's topic: retained before the device starts.
		await watcher.publish(RELEASE, release("sim/moddable_two", "1.1.0"), true);
		fixture.simulate(library, 240);
		await watcher.waitFor(TOPIC("status"), payload => (payload as Birth).online === true, 90_000);
	});
	after(async () => {
		// The retained release would reach the next run's device: delete it while the watcher is open.
		await watcher?.publish(RELEASE, "", true).catch(() => undefined);
		await fixture?.cleanup();
	});

	it("names its model in the birth and refuses a release for another model: E_MODEL, nothing fetched", { skip: sdkSkip }, async () => {
		const birth = parse(watcher.on(TOPIC("status")).find(m => (parse(m.payload) as Birth).online)!.payload) as Birth;
		assert.equal(birth.model, "lin");
		const ignored = await waitFor("ignored", () => progress().find(entry => entry.state === "ignored"), 30_000);
		assert.equal(ignored.error?.code, "E_MODEL", JSON.stringify(ignored));
		assert.equal(ignored.version, "1.1.0");
		const readings = watcher.on(TOPIC("telemetry")).length;
		await waitFor("readings continue", () => watcher.on(TOPIC("telemetry")).length >= readings + 2, 15_000);
		assert.equal(images.requests.size, 0, "nothing fetched");
	});

	it("installs its model's release from the retained topic after the window's delay, boots it and confirms", { skip: sdkSkip }, async () => {
		await watcher.publish(RELEASE, release("lin", "1.1.0"), true);
		const scheduled = await waitFor("scheduled", () => progress().find(entry => entry.state === "scheduled"), 30_000);
		assert.ok(scheduled.delay! >= 0 && scheduled.delay! < 2_000, `delay ${scheduled.delay} within the window`);
		await waitFor("confirmed", () => progress().some(entry => entry.state === "confirmed"), 120_000);
		const states = progress().map(entry => entry.state).filter((state, i, all) => state !== all[i - 1]);
		const from = states.indexOf("scheduled");
		assert.deepEqual(states.slice(from, from + 5), ["scheduled", "downloading", "verifying", "applying", "rebooting"], states.join(" "));
		// The new image sees the same retained release: not above its own version, so ignored (E_VERSION).
		await waitFor("the new image ignores the same release (E_VERSION)", () => progress().some(entry => entry.state === "ignored" && entry.error?.code === "E_VERSION"), 30_000);
		const birth = await watcher.waitFor(TOPIC("status"), payload => (payload as Birth).fw === "1.1.0", 30_000);
		assert.equal((parse(birth.payload) as Birth).reason, "ota");
		assert.deepEqual(readFileSync(slot(library, "installed")), image, "the installed slot is the release's image byte for byte");
		assert.equal(images.requests.get("/fw.bin"), 1);
	});
});
