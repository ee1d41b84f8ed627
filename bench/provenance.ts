/*
 * What a bench result was measured on: the commit (and whether the tree had changes the
 * commit does not hold), the SDK version, the machine's load while it ran.
 *
 * - The bench's own outputs (bench/results/, bench/README.md) do not make the tree
 *   dirty: a second run right after a first, before committing them, still measures
 *   the commit.
 * - The load average is sampled at every step of a run (os.loadavg, 1-minute figure);
 *   timing figures move with it, heap figures do not.
 * Limits: no git (a tarball) gives commit null, reported as such, never guessed.
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";

export interface Commit { sha: string; subject: string; dirty: boolean; changed: string[] }
export interface Load { start: number; max: number; end: number; cpus: number }

const OWN_OUTPUTS = [":(exclude)bench/results", ":(exclude)bench/README.md"];

function git(root: string, args: string[]): string {
	return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
}

/** HEAD of the checkout at `root`, and the files (bench outputs aside) that differ from it. */
export function commitOf(root: string): Commit | null {
	try {
		const sha = git(root, ["rev-parse", "HEAD"]);
		const subject = git(root, ["log", "-1", "--format=%s", sha]);
		const changed = git(root, ["status", "--porcelain", "--", ".", ...OWN_OUTPUTS]).split("\n").filter(Boolean).map(line => line.slice(3));
		return { sha, subject, dirty: changed.length > 0, changed };
	}
	catch {
		return null;
	}
}

export function sdkVersion(home: string): string {
	try {
		return readFileSync(join(home, "tools/VERSION"), "utf8").trim();
	}
	catch { /* older checkouts */ }
	try {
		return git(home, ["describe", "--tags", "--always"]);
	}
	catch {
		return "unknown";
	}
}

/** Samples the 1-minute load average when told to; `value()` gives start, max and latest. */
export class LoadSampler {
	#start = loadavg()[0];
	#max = this.#start;
	#last = this.#start;

	sample(): number {
		this.#last = loadavg()[0];
		this.#max = Math.max(this.#max, this.#last);
		return this.#last;
	}

	value(): Load {
		this.sample();
		const round = (x: number) => Math.round(x * 100) / 100;
		return { start: round(this.#start), max: round(this.#max), end: round(this.#last), cpus: cpus().length };
	}
}
