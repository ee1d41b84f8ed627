/*
 * The operator's `npm run ota` (tools/ota.ts, run in-process through runOta) against
 * a real mosquitto and Node devices: a good update is signed with the dev signing key
 * and exits 0 once the device is back with the new fw and confirmed it, the recorded
 * image being the file; a refused command exits 2, a failed update 3, bad usage 1,
 * each with the device's reason. `sign` prints a payload that the device accepts when
 * published as is (what a mosquitto_pub pipeline does), and that openssl verifies.
 * --host 127.0.0.2 serves the image on that address with a certificate naming it,
 * --broker picks the broker's address, --timeout bounds the wait for the first
 * answer, --help exits 0.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import type { NodeDevice } from "../../node/device";
import { MemoryStorage } from "../../node/ports";
import { NodeUpdateTarget } from "../../node/update-target";
import { Exit, runOta } from "../../tools/ota";
import { Gate } from "../../modules/app/commands/channel";
import { signedMessage } from "../../modules/app/updates/signature";
import { Fixture } from "../../tools/harness/fixture";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { parse } from "../../tools/harness/watcher";
import { waitFor } from "../../tools/harness/wait";

describe("npm run ota", { timeout: 40_000 }, () => {
	const fixture = new Fixture();
	const work = mkdtempSync(join(tmpdir(), "smn-ota-cli-"));
	const file = join(work, "firmware-1.2.0.bin");
	const bytes = Buffer.alloc(96 * 1024, 0).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
	const target = new NodeUpdateTarget();
	let broker: Broker;
	let rebooted: NodeDevice | undefined;
	let images: ImageServer;
	const lines: string[] = [];
	const args = (device: string, version: string, ...more: string[]) =>
		[file, "--device", device, "--version", version, "--port", String(broker.port), "--pki", fixture.pkiDir, ...more];

	before(async () => {
		writeFileSync(file, bytes);
		broker = await fixture.broker();
		const storage = new MemoryStorage();
		const boot = (firmwareVersion?: string, bootReason?: string) => fixture.device(broker.port, { deviceId: "cli-1", otaConfirmAfter: 1_000 }, {
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
		assert.match(result.message, /back with fw 1\.2\.0 \(boot 2\) and confirmed it/);
		assert.ok(lines.some(line => line.includes("signed with") && line.includes("ota-signing.key")), lines.join("\n"));
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

	it("sign prints an ota.start payload openssl verifies and the device accepts as published", async () => {
		images = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => images.close());
		images.route("/fw-1.3.0.bin", { kind: "ok", body: Buffer.from(bytes) });
		const printed = await runOta(["sign", file, "--model", "node", "--version", "1.3.0", "--url", images.url("/fw-1.3.0.bin"), "--pki", fixture.pkiDir, "--id", "piped"], () => undefined);
		assert.equal(printed.code, Exit.Ok, printed.message);
		const payload = JSON.parse(printed.message);
		const sha256 = createHash("sha256").update(bytes).digest("hex");
		assert.deepEqual(Object.keys(payload), ["id", "op", "url", "model", "version", "size", "sha256", "signature"]);
		assert.deepEqual({ ...payload, signature: undefined }, { id: "piped", op: "ota.start", url: images.url("/fw-1.3.0.bin"), model: "node", version: "1.3.0", size: bytes.length, sha256, signature: undefined });

		// The operator's own check, with openssl alone: the public key verifies the canonical message.
		writeFileSync(join(work, "message"), `ota2\nnode\n1.3.0\n${bytes.length}\n${sha256}`);
		assert.equal(readFileSync(join(work, "message"), "utf8"), signedMessage({ model: "node", version: "1.3.0", size: bytes.length, sha256 }));
		writeFileSync(join(work, "signature.der"), Buffer.from(payload.signature, "base64"));
		const verified = execFileSync("openssl", ["dgst", "-sha256", "-verify", join(fixture.pkiDir, "ota-key.der"), "-keyform", "DER", "-signature", join(work, "signature.der"), join(work, "message")], { encoding: "utf8" });
		assert.match(verified, /Verified OK/);

		await waitFor("the rebooted device's gate", () => rebooted?.device.channel.gate === Gate.Open);
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/cli-1/#"] });
		await watcher.publish("devices/cli-1/cmd", printed.message);
		const answer = await watcher.waitFor("devices/cli-1/cmd/result", result => (result as { id?: string }).id === "piped", 5_000);
		assert.deepEqual(parse(answer.payload), { id: "piped", ok: true, state: "downloading", version: "1.3.0" });
		await watcher.waitFor("devices/cli-1/ota", p => (p as { state?: string; version?: string }).state === "confirmed" && (p as { version?: string }).version === "1.3.0", 15_000);
	});

	it("the README's openssl-only signing flow makes a payload the device accepts", async () => {
		images.route("/fw-1.4.0.bin", { kind: "ok", body: Buffer.from(bytes) });
		// The README's commands, with the dev key pair in place of the production one.
		const script = `set -e; cd "$WORK"
IMAGE="$FILE"; MODEL=node; VERSION=1.4.0
SIZE=$(stat -c %s "$IMAGE"); SHA=$(sha256sum "$IMAGE" | cut -d' ' -f1)
printf 'ota2\\n%s\\n%s\\n%s\\n%s' "$MODEL" "$VERSION" "$SIZE" "$SHA" > message
openssl dgst -sha256 -sign "$KEY" -out signature.der message
openssl dgst -sha256 -verify "$PUB" -keyform DER -signature signature.der message >&2
SIG=$(base64 -w0 signature.der)
printf '{"id":"readme","op":"ota.start","url":"%s","model":"%s","version":"%s","size":%s,"sha256":"%s","signature":"%s"}' "$URL" "$MODEL" "$VERSION" "$SIZE" "$SHA" "$SIG"`;
		const payload = execFileSync("bash", ["-c", script], { encoding: "utf8", env: {
			...process.env, WORK: work, FILE: file, URL: images.url("/fw-1.4.0.bin"),
			KEY: join(fixture.pkiDir, "ota-signing.key"), PUB: join(fixture.pkiDir, "ota-key.der"),
		} });
		await waitFor("the rebooted device's gate", () => rebooted?.device.channel.gate === Gate.Open && rebooted.device.trial.state !== "pending");
		const watcher = await fixture.watcher({ port: broker.port, topics: ["devices/cli-1/#"] });
		await watcher.publish("devices/cli-1/cmd", payload);
		const answer = await watcher.waitFor("devices/cli-1/cmd/result", result => (result as { id?: string }).id === "readme", 5_000);
		assert.deepEqual(parse(answer.payload), { id: "readme", ok: true, state: "downloading", version: "1.4.0" });
		await watcher.waitFor("devices/cli-1/ota", p => (p as { state?: string; version?: string }).state === "confirmed" && (p as { version?: string }).version === "1.4.0", 15_000);
	});

	it("exits 2 when the image is signed by a key the device does not hold", async () => {
		const other = join(work, "other.key");
		writeFileSync(other, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
		await waitFor("the rebooted device's gate", () => rebooted?.device.channel.gate === Gate.Open);
		const result = await runOta(args("cli-1", "9.0.0", "--key", other), () => undefined);
		assert.equal(result.code, Exit.Refused);
		assert.match(result.message, /E_SIGNATURE/);
	});

	it("serves on the --host address with a certificate naming it, through the --broker address", async () => {
		await waitFor("the rebooted device's gate", () => rebooted?.device.channel.gate === Gate.Open && rebooted.device.trial.state !== "pending");
		const served: string[] = [];
		const result = await runOta(args("cli-1", "1.5.0", "--host", "127.0.0.2", "--broker", "127.0.0.1"), line => served.push(line));
		assert.equal(result.code, Exit.Ok, `${result.message}\n${served.join("\n")}`);
		assert.ok(served.some(line => /^-> devices\/cli-1\/cmd .*"url":"https:\/\/127\.0\.0\.2:\d+\/firmware-1\.2\.0\.bin"/.test(line)), served.join("\n"));
		assert.ok(served.some(line => /^server: serving 98304 bytes to (::ffff:)?127\.0\.0\.1$/.test(line)), "the device fetched from 127.0.0.2");
		assert.equal(rebooted?.device.firmwareVersion, "1.5.0");
	});

	it("bounds the wait for the first answer with --timeout", async () => {
		const result = await runOta(args("nobody-here", "1.2.0", "--timeout", "1", "--model", "node"), () => undefined);
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
		assert.equal((await runOta(args("cli-1", "2", "--key", join(work, "none.key")), () => undefined)).code, Exit.Usage);
		assert.equal((await runOta(["sign", file, "--model", "node", "--version", "2"], () => undefined)).code, Exit.Usage, "sign needs --url");
		assert.equal((await runOta([file, "--device", "cli-1"], () => undefined)).code, Exit.Usage);
		assert.equal((await runOta([join(work, "missing.bin"), "--device", "cli-1", "--version", "2"], () => undefined)).code, Exit.Usage);
		const badHost = await runOta(args("cli-1", "9.9.9", "--host", "bad/host"), () => undefined);
		assert.equal(badHost.code, Exit.Usage);
		assert.match(badHost.message, /--host bad\/host: "bad\/host" is not a host name or an IP address/);
	});
});
