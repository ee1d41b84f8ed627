/*
 * Wrong arguments to the operator's tools are named, with the rule and an example, and
 * refused before anything is signed (issue 21, defect 6): `npm run ota` (run in-process)
 * and `npm run pki` (in-process, and once as npm runs it). Nothing here needs a broker.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Exit, runOta } from "../../tools/ota";
import { runPki } from "../../tools/pki-cli";
import { ROOT } from "../../tools/dev-state";

const dir = mkdtempSync(join(tmpdir(), "smn-cli-args-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const image = join(dir, "fw.bin");
writeFileSync(image, "image bytes");
mkdirSync(join(dir, "build"));
// A key that is never reached: every case below is refused before signing.
const key = join(dir, "absent.key");

async function ota(...args: string[]) {
	return runOta(args, () => undefined);
}

describe("npm run ota: wrong arguments", () => {
	it("names a missing --device or --version, with an example", async () => {
		assert.deepEqual(await ota(image, "--version", "1.1.0"), { code: Exit.Usage, message: "missing --device <id>: the id of the device to update, as in its topics devices/<id>/... (e.g. --device dev-node)" });
		const result = await ota(image, "--device", "dev-node");
		assert.equal(result.code, Exit.Usage);
		assert.match(result.message, /^missing --version <v>: .* \(e\.g\. --version 1\.1\.0\)$/);
	});

	it("says a folder is a folder, not EISDIR", async () => {
		const result = await ota(join(dir, "build"), "--device", "dev-node", "--version", "1.1.0");
		assert.equal(result.code, Exit.Usage);
		assert.match(result.message, /build is a folder: give the image file inside it \(e\.g\. .*build\/xs_esp32\.bin\)$/);
	});

	it("refuses to sign for an http URL or a version every device refuses", async () => {
		const http = await ota("sign", image, "--version", "1.1.0", "--url", "http://fw.example.com/a.bin", "--key", key);
		assert.equal(http.code, Exit.Usage);
		assert.match(http.message, /^--url "http:\/\/fw\.example\.com\/a\.bin": the device fetches only https:\/\/ URLs .* \(e\.g\. --url https:\/\/fw\.example\.com\/node-1\.1\.0\.bin\)$/);
		const banana = await ota("sign", image, "--version", "banana", "--url", "https://fw.example.com/a.bin", "--key", key);
		assert.equal(banana.code, Exit.Usage);
		assert.match(banana.message, /^--version "banana": .*starting with a number.* \(e\.g\. --version 1\.1\.0\)$/);
		const long = await ota("sign", image, "--version", "1.1.0", "--url", `https://fw.example.com/${"a".repeat(200)}`, "--key", key);
		assert.match(long.message, /at most 200 characters/);
	});

	it("names an unknown option and a bad port", async () => {
		const unknown = await ota(image, "--device", "d", "--version", "1.1.0", "--colour");
		assert.equal(unknown.code, Exit.Usage);
		assert.match(unknown.message, /^Unknown option '--colour'/);
		const port = await ota(image, "--device", "d", "--version", "1.1.0", "--port", "99999");
		assert.match(port.message, /^--port "99999": the broker's TLS port, 1\.\.65535 \(e\.g\. --port 8883\)$/);
	});
});

describe("npm run pki: wrong arguments", () => {
	it("--help prints the usage (exit 0)", () => {
		const out: string[] = [];
		runPki(["--help"], text => out.push(text));
		assert.match(out.join("\n"), /^usage: npm run pki -- device <id>/);
	});

	it("names a bad --mode, --port or --ha-prefix, with the rule and an example", () => {
		assert.throws(() => runPki(["broker-kit", join(dir, "kit"), "--mode", "weird"]), { message: '--mode "weird": one of mtls, password (e.g. --mode mtls)' });
		assert.throws(() => runPki(["broker-kit", join(dir, "kit"), "--port", "99999"]), { message: '--port "99999": a TCP port, 1..65535 (e.g. --port 8883)' });
		assert.throws(() => runPki(["broker-kit", join(dir, "kit"), "--ha-prefix", "home/#"]), { message: /^--ha-prefix: "home\/#" contains the wildcard # \(e\.g\. --ha-prefix homeassistant\)$/ });
		assert.throws(() => runPki(["broker-kit"]), { message: /^broker-kit needs the folder to write the kit to \(e\.g\. npm run pki -- broker-kit \.\/broker --mode mtls\)$/ });
	});

	it("names an unknown command or option", () => {
		assert.throws(() => runPki(["kit"]), { message: /^unknown command "kit": device or broker-kit\nusage:/ });
		assert.throws(() => runPki(["broker-kit", "x", "--colour"]), { message: /^Unknown option '--colour'/ });
	});

	it("runs as npm runs it: exit 2 and the message on stderr", () => {
		const result = spawnSync(process.execPath, ["--import", "tsx", "tools/pki-cli.ts", "broker-kit", join(dir, "kit"), "--mode", "weird"], { cwd: ROOT, encoding: "utf8" });
		assert.equal(result.status, 2);
		assert.equal(result.stderr.trim(), '--mode "weird": one of mtls, password (e.g. --mode mtls)');
	});
});
