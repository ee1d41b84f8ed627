/*
 * The bench's four simulator builds (firmware, baseline, memory budget app, bare HTTPS
 * downloader), each with its own clean state.
 *
 * - Builds go to build/bench/<app>/ and are kept between runs: mcconfig's make redoes
 *   only what it finds out of date (sources, config, the run's freshly generated CA),
 *   so a second run of the same commit skips the ~45 per-module tsc calls. SMN_BENCH_CLEAN=1
 *   starts from empty build folders. A lock file keeps two runs out of one folder; a
 *   build that did not finish (the run was stopped) leaves a marker, and its folder is
 *   emptied before the next build, so no half-written output is ever taken as current.
 * - State: the firmware keeps its state beside its library (board/storage: state/ next
 *   to mc.so, kept while the library is not linked again), so a kept build would start
 *   a run with the last run's boot counter and settings: that folder is emptied once the
 *   build is done, and every simulator starts as a fresh device. Apps that use the
 *   SDK's Preference (the baseline) keep it at `config.file.root + "modpreferences.json"`,
 *   /tmp/ on lin and shared by every simulator on the machine: each build gets
 *   `file.root` = a new, empty folder of this run (an extra manifest included last, so
 *   its config wins).
 */

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmwareAsync, simulatorStateDir, type BuildOptions } from "../tools/sdk";

export interface BenchBuild {
	name: string;
	/** The folder its Preference file and update slots live in (empty at the start of the run). */
	stateDir: string;
	library: Promise<string>;
}

/** Owns build/bench/ for the duration of a run; `release()` gives it back. */
export function lockBuilds(root: string): { dir: string; release(): void } {
	const dir = join(root, "build", "bench");
	if (process.env.SMN_BENCH_CLEAN === "1")
		rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const lock = join(dir, "lock");
	if (existsSync(lock)) {
		const pid = Number(readFileSync(lock, "utf8"));
		let alive = false;
		try { process.kill(pid, 0); alive = true; } catch { /* gone */ }
		if (alive)
			throw new Error(`bench: another bench run (pid ${pid}) is using ${dir}; wait for it or stop it`);
	}
	writeFileSync(lock, String(process.pid));
	return { dir, release: () => rmSync(lock, { force: true }) };
}

/**
 * Starts one build in `buildDir`/`name` (the app is named after that folder), with its
 * state under `work`/state/`name`/ and `extra` (a bench manifest, or none) included.
 */
export function startBuild(buildDir: string, work: string, name: string, options: Omit<BuildOptions, "outDir" | "manifest">, extra?: string): BenchBuild {
	const stateDir = join(work, "state", name);
	mkdirSync(stateDir, { recursive: true });
	const manifest = join(work, `${name}-bench.json`);
	writeFileSync(manifest, JSON.stringify({
		include: extra ? [extra] : [],
		config: { file: { root: stateDir + "/" } },
	}, null, "\t"));
	const outDir = join(buildDir, name), unfinished = `${outDir}.unfinished`;
	if (existsSync(unfinished))
		rmSync(outDir, { recursive: true, force: true });
	writeFileSync(unfinished, "");
	const library = buildFirmwareAsync({ ...options, outDir, manifest })
		.then(path => {
			rmSync(unfinished, { force: true });
			rmSync(simulatorStateDir(path), { recursive: true, force: true });	// a fresh device each run
			return path;
		})
		.catch(error => { throw new Error(`bench: building the ${name} failed: ${error instanceof Error ? error.message : error}`); });
	library.catch(() => undefined);	// awaited later; an early failure must not be an unhandled rejection
	return { name, stateDir, library };
}
