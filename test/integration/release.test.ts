/*
 * A staged fleet release on Node against a real mosquitto, driven by the operator's
 * `npm run release` (tools/release.ts, in-process): ten devices, stage one at 20 %
 * installs a good image (the two devices in buckets below 20 update, reboot into it and
 * confirm; the others do not fetch), stage two at 50 % meets a broken image (the server
 * now sends other bytes): `status --halt-at 30%` sees the second failure of the four
 * devices of the stage and drops the rollout to 0 by itself; no device above the
 * stage ever fetches. Also: publish refuses a --signature that does not verify, and a
 * device ignores a release for another model.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { MemoryStorage } from "../../node/ports";
import { NodeUpdateTarget } from "../../node/update-target";
import { Exit, runRelease } from "../../tools/release";
import { Gate } from "../../modules/app/commands/channel";
import { bucketOf } from "../../modules/app/updates/release";
import { Fixture } from "../../tools/harness/fixture";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { parse, type Watcher } from "../../tools/harness/watcher";
import { waitFor } from "../../tools/harness/wait";

const IDS = Array.from({ length: 10 }, (_, i) => `rel-${i}`);	// buckets 89 70 51 32 65 46 27 8 37 18
const RELEASE = "fleet/node/release";

describe("npm run release: a staged rollout halted by --halt-at", { timeout: 90_000 }, () => {
	const fixture = new Fixture();
	const work = mkdtempSync(join(tmpdir(), "smn-release-"));
	const file = join(work, "firmware-1.1.0.bin");
	const bytes = Buffer.from(new Uint8Array(64 * 1024).map((_, i) => (i * 13 + (i >> 9)) & 0xff));
	const nodes = new Map<string, NodeDevice>();
	let broker: Broker;
	let images: ImageServer;
	let operator: Watcher;
	const common = () => ["--port", String(broker.port), "--pki", fixture.pkiDir];
	const publish = (rollout: number, ...more: string[]) =>
		runRelease(["publish", file, "--model", "node", "--version", "1.1.0", "--url", images.url("/fw.bin"), "--rollout", String(rollout), ...common(), ...more], () => undefined);

	before(async () => {
		writeFileSync(file, bytes);
		broker = await fixture.broker();
		images = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => images.close());
		images.route("/fw.bin", { kind: "ok", body: bytes });
		operator = await fixture.watcher({ port: broker.port, topics: ["devices/+/ota", RELEASE] });
		for (const id of IDS) {
			const storage = new MemoryStorage();
			const target = new NodeUpdateTarget();
			const boot = (firmwareVersion?: string, bootReason?: string): NodeDevice => {
				const node = fixture.device(broker.port, { deviceId: id, releaseWindow: "1500", otaConfirmAfter: "1000" }, {
					storage, updateTarget: target, firmwareVersion, bootReason,
					onRestart: (reason, next) => { nodes.set(id, boot(next.firmwareVersion, reason)); nodes.get(id)!.device.start(); },
				});
				return node;
			};
			nodes.set(id, boot());
			nodes.get(id)!.device.start();
		}
		await waitFor("every command gate open", () => IDS.every(id => nodes.get(id)!.device.channel.gate === Gate.Open));
	});
	after(async () => {
		await fixture.cleanup();
		rmSync(work, { recursive: true, force: true });
	});

	const stage = (from: number, to: number) => IDS.filter(id => bucketOf(id) >= from && bucketOf(id) < to);

	it("publish refuses a --signature that does not verify, and publishes nothing", async () => {
		const forged = await publish(20, "--signature", Buffer.alloc(70, 1).toString("base64"));
		assert.equal(forged.code, Exit.Usage);
		assert.match(forged.message, /does not verify/);
		assert.equal(operator.on(RELEASE).length, 0);
	});

	it("stage one (20 %) installs the good image on its two devices only", async () => {
		const result = await publish(20);
		assert.equal(result.code, Exit.Ok, result.message);
		const first = stage(0, 20);
		assert.deepEqual(first, ["rel-7", "rel-9"]);
		await waitFor("stage one confirmed", () => first.every(id => operator.on(`devices/${id}/ota`).some(m => (parse(m.payload) as { state?: string }).state === "confirmed")), 30_000);
		for (const id of first)
			assert.equal(nodes.get(id)!.device.firmwareVersion, "1.1.0");
		for (const id of IDS.filter(id => !first.includes(id)))
			assert.equal(nodes.get(id)!.device.firmwareVersion, "1.0.0", id);
		assert.equal(images.requests.get("/fw.bin"), 2, "only the stage fetched");
	});

	it("stage two (50 %) fails, and status --halt-at 30% drops the rollout to 0 by itself", async () => {
		images.route("/fw.bin", { kind: "ok", body: Buffer.from(bytes).reverse() });	// same length, other bytes
		const lines: string[] = [];
		const watching = runRelease(["status", "node", "--halt-at", "30%", "--timeout", "60", "--wait", "1", ...common()], line => lines.push(line));
		await waitFor("status has read the births", () => lines.length > 0);
		assert.match(lines[0], /release 1\.1\.0 for node: rollout 20%, 10 devices/);
		assert.equal((await publish(50)).code, Exit.Ok);
		const halted = await watching;
		assert.equal(halted.code, Exit.Halted, `${halted.message}\n${lines.join("\n")}`);
		assert.match(halted.message, /of 4 devices in stage 20\.\.50% failed or rolled back/);
		const retained = await fixture.watcher({ port: broker.port, topics: [RELEASE] });
		const release = parse((await retained.waitFor(RELEASE)).payload) as { rollout: number; version: string };
		assert.equal(release.rollout, 0);
		const second = stage(20, 50);
		const failed = second.filter(id => operator.on(`devices/${id}/ota`).some(m => (parse(m.payload) as { error?: { code: string } }).error?.code === "E_HASH"));
		assert.ok(failed.length >= 2, `E_HASH from ${failed.join(", ")}`);
		for (const id of second)
			assert.equal(nodes.get(id)!.device.firmwareVersion, "1.0.0", `${id} still runs the old image`);
		assert.ok(images.requests.get("/fw.bin")! <= 2 + second.length, "nobody above the stage fetched");
		for (const id of stage(50, 100))
			assert.ok(!operator.on(`devices/${id}/ota`).some(m => (parse(m.payload) as { state?: string }).state === "downloading"), id);
	});

	it("a release for another model is ignored with a report, and the device keeps running", async () => {
		const other = join(work, "other.bin");
		writeFileSync(other, bytes);
		const result = await runRelease(["publish", other, "--model", "esp32/esp32_thing", "--version", "2.0.0", "--url", images.url("/fw.bin"), "--rollout", "100", "--fleet-prefix", "fleet", ...common()], () => undefined);
		assert.equal(result.code, Exit.Ok);
		// Published where that model's devices listen; a forged copy on this model's topic is refused.
		const forged = { ...parse((await (await fixture.watcher({ port: broker.port, topics: ["fleet/esp32-esp32_thing/release"] })).waitFor("fleet/esp32-esp32_thing/release")).payload) as object };
		await operator.publish(RELEASE, JSON.stringify(forged), true);
		await operator.waitFor("devices/rel-0/ota", p => (p as { error?: { code: string } }).error?.code === "E_MODEL");
		assert.equal(nodes.get("rel-0")!.device.connection.state, "online");
	});
});
