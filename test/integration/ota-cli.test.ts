/*
 * The operator's `npm run ota` (tools/ota.ts, run in-process through runOta) against
 * a real mosquitto and Node devices: a good update exits 0 once the device is back with
 * the new fw and the recorded image is the file; a refused command exits 2, a failed
 * update 3, bad usage 1, each with the device's reason; --host 127.0.0.2 serves the
 * image on that address with a certificate naming it, --broker picks the broker's
 * address, --timeout bounds the wait for the first answer, --help exits 0.
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

	it("serves on the --host address with a certificate naming it, through the --broker address", async () => {
		const served: string[] = [];
		const result = await runOta(args("cli-1", "1.3.0", "--host", "127.0.0.2", "--broker", "127.0.0.1"), line => served.push(line));
		assert.equal(result.code, Exit.Ok, `${result.message}\n${served.join("\n")}`);
		assert.ok(served.some(line => /^-> devices\/cli-1\/cmd .*"url":"https:\/\/127\.0\.0\.2:\d+\/firmware-1\.2\.0\.bin"/.test(line)), served.join("\n"));
		assert.ok(served.some(line => /^server: serving 98304 bytes to (::ffff:)?127\.0\.0\.1$/.test(line)), "the device fetched from 127.0.0.2");
		assert.equal(rebooted?.device.firmwareVersion, "1.3.0");
	});

	it("bounds the wait for the first answer with --timeout", async () => {
		const result = await runOta(args("nobody-here", "1.2.0", "--timeout", "1"), () => undefined);
		assert.equal(result.code, Exit.Timeout);
		assert.match(result.message, /no answer from nobody-here in 1 s/);
	});

	it("prints the usage and exits 0 for --help", async () => {
		const result = await runOta(["--help"], () => undefined);
		assert.equal(result.code, Exit.Ok);
		assert.match(result.message, /^usage: npm run ota -- <image> --device <id> --version <v>/);
		assert.match(result.message, /--host <name\|ip>/);
	});

	it("exits 1 on bad usage without touching the broker", async () => {
		assert.equal((await runOta([file, "--device", "cli-1"], () => undefined)).code, Exit.Usage);
		assert.equal((await runOta([join(work, "missing.bin"), "--device", "cli-1", "--version", "2"], () => undefined)).code, Exit.Usage);
		const badHost = await runOta(args("cli-1", "9.9.9", "--host", "bad/host"), () => undefined);
		assert.equal(badHost.code, Exit.Usage);
		assert.match(badHost.message, /--host bad\/host: "bad\/host" is not a host name or an IP address/);
	});
});
