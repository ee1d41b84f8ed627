/*
 * board/link/clock-sync: sets the clock once the link is up, with at most one attempt
 * or one waiting retry at any time (the ESP32 link's SNTP).
 *
 * - start() (an address was obtained): begins an attempt unless one runs or a retry
 *   waits, or the clock is not `needed()` (link down, or set already).
 * - A failed attempt retries `retryAfter` ms later, while still needed.
 * - stop() (the link went down): cancels the waiting retry and abandons the running
 *   attempt; the next start() begins afresh.
 * - Why: the link used to start a new retry loop on every address event and never
 *   cancel the old one, so loops piled up while WiFi flapped before the clock was set.
 * Portable (timers injected) so that Node tests drive it; the SNTP query is the link's.
 */

// The parts of the core's Timers and Log it uses (app/ports), declared here so that the
// Node tests can load this module without the firmware's module map.
type TimerHandle = unknown;
interface Timers {
	set(callback: () => void, ms: number): TimerHandle;
	clear(handle: TimerHandle | undefined): void;
}
type Log = (line: string) => void;

export interface ClockSyncOptions {
	/** True while the link is up and the clock is not set yet. */
	needed(): boolean;
	/** Starts one query; `done(true)` once the clock is set, `done(false)` when it failed. */
	query(done: (set: boolean) => void): { close(): void };
	timers: Timers;
	retryAfter: number;	// ms
	log: Log;
}

export interface ClockSync {
	start(): void;
	stop(): void;
}

export function createClockSync(options: ClockSyncOptions): ClockSync {
	const { timers, log } = options;
	let attempt: object | undefined;	// the running attempt (a token)
	let query: { close(): void } | undefined;
	let retry: TimerHandle | undefined;
	const start = () => {
		if (attempt || retry !== undefined || !options.needed())
			return;
		const token = {};
		attempt = token;
		const started = options.query(set => {
			if (attempt !== token)
				return;	// abandoned by stop()
			attempt = query = undefined;
			if (set || !options.needed())
				return;
			log(`link: no time yet; retrying in ${options.retryAfter} ms`);
			retry = timers.set(() => {
				retry = undefined;
				start();
			}, options.retryAfter);
		});
		if (attempt === token)
			query = started;
	};
	return {
		start,
		stop() {
			timers.clear(retry);
			retry = undefined;
			const running = query;
			attempt = query = undefined;
			running?.close();
		},
	};
}
