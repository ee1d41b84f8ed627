/*
 * Backoff: capped exponential backoff with full jitter.
 *
 * - The wait before retry n (n counts from 0) is uniform in
 *   [0, min(max, min * 2^n)): a fleet that lost its broker together spreads its
 *   reconnects over the whole window instead of arriving in waves.
 * - `random` is injected (Math.random in production) so tests can pin the draw;
 *   `jitter: false` gives the cap itself, for comparing herd behaviour in benchmarks.
 * - reset() after a connection proved stable; otherwise the window keeps growing.
 */

export interface BackoffOptions {
	min: number;	// ms
	max: number;	// ms
	random: () => number;	// uniform in [0, 1)
	jitter?: boolean;
}

export class Backoff {
	#attempt = 0;
	readonly #options: BackoffOptions;

	constructor(options: BackoffOptions) {
		this.#options = options;
	}

	/** The cap of the current window, before jitter. */
	get ceiling(): number {
		const { min, max } = this.#options;
		// 2^n grows past any max long before it stops being exact; clamp n to keep it finite.
		return Math.min(max, min * 2 ** Math.min(this.#attempt, 30));
	}

	get attempt(): number {
		return this.#attempt;
	}

	/** Draws the next wait (ms) and widens the window for the one after. */
	next(): number {
		const ceiling = this.ceiling;
		this.#attempt++;
		if (this.#options.jitter === false)
			return ceiling;
		return Math.floor(this.#options.random() * ceiling);
	}

	reset(): void {
		this.#attempt = 0;
	}
}
