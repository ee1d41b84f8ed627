/*
 * BuildProgress: what `npm start` shows while mcconfig builds the firmware for the
 * simulator, so a first build (the SDK's own C sources too, about 2 minutes) is not a
 * silent wait.
 *
 * - feed(line) reads mcconfig's and make's output: every "# <tool> <file>" line is one
 *   step (xsc, tsc, cc, xsl, mcrez, ld); the last one is remembered.
 * - tick() returns a line at most every `every` ms while the build runs ("build: 40 s,
 *   132 steps, now cc xsAll.c"), else undefined; done() the closing line.
 * - `first`: the build starts from nothing (no earlier build in its folder), so the
 *   first line says it takes about 2 minutes; a rebuild only compiles what changed.
 */

export interface BuildProgressOptions {
	first: boolean;
	now?: () => number;	// ms, default Date.now (tests)
	every?: number;		// ms between lines, default 10_000
}

export class BuildProgress {
	readonly #now: () => number;
	readonly #every: number;
	readonly #started: number;
	readonly first: boolean;
	#steps = 0;
	#last = "";
	#said: number;

	constructor(options: BuildProgressOptions) {
		this.#now = options.now ?? Date.now;
		this.#every = options.every ?? 10_000;
		this.first = options.first;
		this.#started = this.#said = this.#now();
	}

	/** The line to say as the build starts. */
	get opening(): string {
		return this.first
			? "build: a first build compiles the SDK's sources too: about 270 steps, 2 minutes on an idle machine, longer on a busy one (later builds take seconds); progress every 10 s"
			: "build: only what changed is compiled";
	}

	feed(text: string): void {
		for (const line of text.split("\n")) {
			const step = /^# (\S+(?: \S+)?)/.exec(line.trim());
			if (!step || /^# (Clean|Project)/i.test(line.trim()))
				continue;
			this.#steps++;
			this.#last = step[1];
		}
	}

	tick(): string | undefined {
		const now = this.#now();
		if (now - this.#said < this.#every)
			return undefined;
		this.#said = now;
		return `build: ${Math.round((now - this.#started) / 1000)} s, ${this.#steps} steps${this.#last ? `, now ${this.#last}` : ""}`;
	}

	done(): string {
		return `build: done in ${Math.round((this.#now() - this.#started) / 1000)} s (${this.#steps} steps)`;
	}
}
