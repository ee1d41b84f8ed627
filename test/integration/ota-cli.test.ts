/*
 * The operator's `npm run ota` (tools/ota.ts, run in-process through runOta) against
 * a real mosquitto and Node devices: a good update exits 0 once the device is back with
 * the new fw and the recorded image is the file; a refused command exits 2, a failed
 * update 3, bad usage 1, each with the device's reason.
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
import { Exit, runOta } from "../../tools/ota";
import { Gate } from "../../modules/app/command-channel";
import { Fixture } from "../../tools/harness/fixture";
import { waitFor } from "../../tools/harness/wait";

describe("npm run ota", { timeout: 40_000 }, () => {
	const fixture = new Fixture();
	const work = mkdtempSync(join(tmpdir(), "smn-ota-cli-"));
	const file = join(work, "firmware-1.2.0.bin");
	const bytes = Buffer.alloc(96 * 1024, 0).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
	const target = new NodeUpdateTarget();
	let broker: Broker;
	let rebooted: NodeDevice | undefined;
	const lines: string[] = [];
	const args = (device: string, version: string, ...more: string[]) =>
		[file, "--device", device, "--version", version, "--port", String(broker.port), "--pki", fixture.pkiDir, ...more];

	before(async () => {
		writeFileSync(file, bytes);
		broker = await fixture.broker();
		const storage = new MemoryStorage();
		const boot = (firmwareVersion?: string, bootReason?: string) => fixture.device(broker.port, { deviceId: "cli-1" }, {
			storage, updateTarget: target, firmwareVersion, bootReason,
			onRestart: (reason, next) => { rebooted = boot(next.firmwareVersion, reason); rebooted.device.start(); },
		});
		const first = boot();
		const small = fixture.device(broker.port, { deviceId: "cli-small" }, { otaCapacity: 10_000 });
		first.device.start();
		small.device.start();
		await waitFor("both command gates to open", () => first.device.channel.gate === Gate.Open && small.device.channel.gate === Gate.Open);
	});
	after(async () => {
		await fixture.cleanup();
		rmSync(work, { recursive: true, force: true });
	});

	it("updates a device and exits 0 once it is back with the new fw", async () => {
		const result = await runOta(args("cli-1", "1.2.0"), line => lines.push(line));
		assert.equal(result.code, Exit.Ok, `${result.message}\n${lines.join("\n")}`);
		assert.match(result.message, /back with fw 1\.2\.0/);
		assert.ok(lines.some(line => /^downloading \[#+\] 100% 96\.0\/96\.0 KiB$/.test(line)), lines.join("\n"));
		assert.deepEqual(lines.filter(line => /^(verifying|applying|rebooting|failed)\b/.test(line)).map(line => line.split(" ")[0]), ["verifying", "applying", "rebooting"]);
		assert.ok(target.bootImage?.equals(bytes), "the device recorded the file byte for byte");
		assert.equal(rebooted?.device.firmwareVersion, "1.2.0");
	});

	it("exits 2 with the device's reason when the command is refused", async () => {
		await waitFor("the rebooted device's gate", () => rebooted?.device.channel.gate === Gate.Open);
		const result = await runOta(args("cli-1", "1.2.0"), () => undefined);
		assert.equal(result.code, Exit.Refused);
		assert.match(result.message, /E_VERSION/);
	});

	it("exits 3 with the reason when the update fails", async () => {
		const result = await runOta(args("cli-small", "1.2.0"), () => undefined);
		assert.equal(result.code, Exit.Failed);
		assert.match(result.message, /E_TOO_BIG/);
	});

	it("exits 1 on bad usage without touching the broker", async () => {
		assert.equal((await runOta([file, "--device", "cli-1"], () => undefined)).code, Exit.Usage);
		assert.equal((await runOta([join(work, "missing.bin"), "--device", "cli-1", "--version", "2"], () => undefined)).code, Exit.Usage);
	});
});
