/*
 * CodeLimiter: slows down guessing the setup code.
 *
 * - FREE_ATTEMPTS wrong (or missing) codes in a row are answered 401; after that every
 *   POST /settings, with the right code or not, is answered 429 for a lockout that
 *   starts at LOCKOUT and doubles with each further wrong code, up to MAX_LOCKOUT.
 *   A right code outside a lockout resets the count.
 * - Time is the caller's monotonic ms (Clock.ticks): a lockout survives no reboot, but a
 *   reboot of a board takes seconds and closes setup mode unless it is asked for again.
 */

export const FREE_ATTEMPTS = 5;
export const LOCKOUT = 30_000;		// ms
export const MAX_LOCKOUT = 900_000;	// ms

export class CodeLimiter {
	#failures = 0;
	#until = 0;

	/** ms until codes are heard again, 0 when they are now. */
	wait(now: number): number {
		return Math.max(0, this.#until - now);
	}

	failed(now: number): void {
		this.#failures++;
		if (this.#failures >= FREE_ATTEMPTS)
			this.#until = now + Math.min(MAX_LOCKOUT, LOCKOUT * 2 ** (this.#failures - FREE_ATTEMPTS));
	}

	succeeded(): void {
		this.#failures = 0;
		this.#until = 0;
	}
}
