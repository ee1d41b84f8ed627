/*
 * The XS half of the esp32 build, as far as this machine goes: no ESP-IDF (its
 * components and an ESP32 compiler are not here), but the makefile's mc.xs.c step
 * runs tsc, xsc and xsl with every preload, for an Xtensa board (esp32/esp32_thing)
 * and a RISC-V one (esp32/esp32c3).
 *
 * - The makefile only asks ESP-IDF for its version (`git describe` in IDF_PATH) and
 *   for sdkconfig.h: IDF_PATH is an empty git repository tagged v6.0 and
 *   xsProj-<chip>/build/config/sdkconfig.h an empty file.
 * - Fails when the step fails (a preload that throws, a module that does not resolve,
 *   a type error) and on any xsl warning about the project's own modules (the ones
 *   whose source is in this repository): an object left writable in a preloaded
 *   module costs RAM on the board (the SDK's "XS linker warnings" document).
 * Skipped, and reported as skipped, where no Moddable SDK is installed. About 90 s a
 * board on an idle machine.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { moddableHome, sdkEnv } from "../../tools/sdk";
import { sdkSkip } from "./support";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const BOARDS = ["esp32/esp32_thing", "esp32/esp32c3"];

/** An empty git repository tagged v6.0: all the makefile asks of ESP-IDF before mc.xs.c. */
function fakeIdf(dir: string): string {
	const idf = join(dir, "idf");
	mkdirSync(idf);
	const git = (...args: string[]) => {
		const run = spawnSync("git", ["-c", "user.name=test", "-c", "user.email=test@localhost", ...args], { cwd: idf, encoding: "utf8" });
		assert.equal(run.status, 0, run.stderr);
	};
	git("init", "-q");
	git("commit", "-q", "--allow-empty", "-m", "ESP-IDF stand-in");
	git("tag", "v6.0");
	return idf;
}

/** The module specifiers whose source is in this repository, from the makefile's xsc rules. */
function projectModules(makefile: string): Set<string> {
	const modules = new Set<string>();
	for (const [, name, source] of makefile.matchAll(/^\$\(MODULES_DIR\)\/(\S+)\.xsb: (\S+)/gm))
		if (source.includes(ROOT + "/"))
			modules.add(name);
	return modules;
}

describe("esp32 XS build (tsc, xsc, xsl with every preload)", () => {
	let out: string | undefined;
	after(() => { if (out) rmSync(out, { recursive: true, force: true }); });

	for (const board of BOARDS)
		it(`${board}: every preload links, no xsl warning about the project's modules`, { skip: sdkSkip }, () => {
			out ??= mkdtempSync(join(tmpdir(), "smn-esp32-xs-"));
			const home = moddableHome().home!;
			const dir = join(out, board.replace("/", "-"));
			mkdirSync(dir);
			const env = { ...sdkEnv(home), IDF_PATH: fakeIdf(dir) };
			const generate = spawnSync(join(home, "build/bin/lin/release/mcconfig"),
				["-p", board, "-t", "build", "-o", dir, join(ROOT, "manifest.json"), "ssid=lab", "mqttHost=broker.example"],
				{ cwd: ROOT, env, encoding: "utf8" });
			assert.equal(generate.status, 0, generate.stdout + generate.stderr);
			const build = join(dir, "tmp", board, "release", basename(ROOT));
			const project = readdirSync(build).find(name => name.startsWith("xsProj-"));
			assert.ok(project, `an xsProj-<chip> folder in ${build}`);
			mkdirSync(join(build, project, "build/config"), { recursive: true });
			writeFileSync(join(build, project, "build/config/sdkconfig.h"), "");

			const make = spawnSync("make", ["-f", "makefile", join(build, "mc.xs.c")], { cwd: build, env, encoding: "utf8", maxBuffer: 64 << 20 });
			const output = make.stdout + make.stderr;
			assert.equal(make.status, 0, output.split("\n").filter(line => /error|warning|not found|cannot/i.test(line)).join("\n") || output.slice(-4000));
			const ours = projectModules(readFileSync(join(build, "makefile"), "utf8"));
			assert.ok(ours.has("app/device") && ours.has("main"), `the project's modules found in the makefile (${ours.size})`);
			const warnings = output.split("\n").filter(line => line.startsWith("### warning: "));
			const mine = warnings.filter(line => ours.has(line.slice("### warning: ".length).split(":")[0]));
			if (process.env.SMN_TEST_LOGS === "1")
				console.log(`[${board}] ${warnings.length} xsl warnings, ${mine.length} about the project's modules\n${warnings.join("\n")}`);
			assert.deepEqual(mine, [], `${mine.length} of ${warnings.length} xsl warnings are about the project's modules`);
		});
});
