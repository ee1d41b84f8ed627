/*
 * The esp32 build: with no ESP-IDF on this machine, `mcconfig -p esp32` (without -m)
 * must still generate the build files, every generated TypeScript config must
 * type-check against the SDK's esp32 typings, and the SDK's own setup/network
 * (which would join WiFi before main runs) must be replaced by the project's.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { moddableHome, sdkEnv } from "../../tools/sdk";
import { sdkSkip } from "./support";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function tsconfigs(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true, recursive: true })
		.filter(entry => entry.isFile() && entry.name.endsWith("-tsconfig.json"))
		.map(entry => join(entry.parentPath, entry.name));
}

describe("esp32 build files", () => {
	let out: string | undefined;
	after(() => { if (out) rmSync(out, { recursive: true, force: true }); });

	it("generate, type-check, and use the project's network setup", { skip: sdkSkip }, () => {
		out = mkdtempSync(join(tmpdir(), "smn-esp32-"));
		const home = moddableHome().home!;
		const generate = spawnSync(join(home, "build/bin/lin/release/mcconfig"),
			["-p", "esp32/esp32_thing", "-t", "build", "-o", out, join(ROOT, "manifest.json"), "ssid=lab", "mqttHost=broker.example"],
			{ cwd: ROOT, env: sdkEnv(home), encoding: "utf8" });
		assert.equal(generate.status, 0, generate.stdout + generate.stderr);
		// mcconfig names the app after the directory that holds the manifest.
		const build = join(out, "tmp/esp32/esp32_thing/release", basename(ROOT));
		const makefile = readFileSync(join(build, "makefile"), "utf8");
		assert.match(makefile, /setup\/network\.xsb: \S*modules\/board\/link\/setup-network-deferred\.js/);
		assert.match(makefile, /board\/link\.xsb: \S*modules\/board\/link\/esp32\.js/);

		const configs = tsconfigs(join(build, "modules"));
		assert.ok(configs.length >= 10, `per-module tsconfigs generated (${configs.length})`);
		const tsc = join(ROOT, "node_modules/.bin/tsc");
		for (const config of configs) {
			const check = spawnSync(tsc, ["-p", config, "--noEmit"], { encoding: "utf8" });
			assert.equal(check.status, 0, `${config}\n${check.stdout}${check.stderr}`);
		}
	});
});
