/*
 * DownloadWatchdog: the two clocks that keep an update download from hanging.
 *
 * - Stall: no download event for `stallTimeout` ms (every start() and activity()
 *   re-arms it) expires with OtaReason.Stall.
 * - Deadline: from the response on, the body of `size` bytes must arrive within
 *   deadlineBase + size / minRate (response(size) arms it); else OtaReason.Deadline. A
 *   server that drips a byte now and then stays inside the stall timeout forever, not
 *   inside this.
 * - stop() clears both; onExpired is called at most once per arming, after the timer
 *   was cleared, never from inside a call.
 */

import type { TimerHandle, Timers } from "../ports";
import { OtaReason } from "./request";

export const STALL_TIMEOUT = 30_000;	// ms without any download event
export const DEADLINE_BASE = 60_000;	// ms a body may take on top of its size at MIN_RATE (twice the stall timeout)
export const MIN_RATE = 1_024;			// bytes/s: the slowest download an update accepts

export interface OtaLimits {
	stallTimeout: number;	// ms
	deadlineBase: number;	// ms
	minRate: number;		// bytes/s
}

export interface WatchdogOptions {
	timers: Timers;
	/** Shorter limits for tests. */
	limits?: Partial<OtaLimits>;
	/** `received()` tells how far the download got, for the message. */
	received(): number;
	onExpired(reason: OtaReason.Stall | OtaReason.Deadline, message: string): void;
}

export class DownloadWatchdog {
	readonly limits: OtaLimits;
	#stall: TimerHandle | undefined;
	#deadline: TimerHandle | undefined;
	readonly #o: WatchdogOptions;

	constructor(options: WatchdogOptions) {
		this.#o = options;
		const limits = options.limits ?? {};
		this.limits = {
			stallTimeout: limits.stallTimeout ?? STALL_TIMEOUT,
			deadlineBase: limits.deadlineBase ?? DEADLINE_BASE,
			minRate: limits.minRate ?? MIN_RATE,
		};
	}

	/** The download started, or something arrived: the stall clock starts again. */
	activity(): void {
		const { timers } = this.#o;
		const ms = this.limits.stallTimeout;
		timers.clear(this.#stall);
		this.#stall = timers.set(() => {
			this.#stall = undefined;
			this.stop();
			this.#o.onExpired(OtaReason.Stall, `no data for ${ms} ms after ${this.#o.received()} bytes`);
		}, ms);
	}

	/** The response announced `size` bytes: the body's deadline starts. */
	response(size: number): void {
		const { deadlineBase, minRate } = this.limits;
		const ms = deadlineBase + Math.ceil(size * 1000 / minRate);
		this.#o.timers.clear(this.#deadline);
		this.#deadline = this.#o.timers.set(() => {
			this.#deadline = undefined;
			this.stop();
			this.#o.onExpired(OtaReason.Deadline, `${this.#o.received()} of ${size} bytes after ${ms} ms (at least ${minRate} bytes/s)`);
		}, ms);
	}

	stop(): void {
		this.#o.timers.clear(this.#stall);
		this.#o.timers.clear(this.#deadline);
		this.#stall = undefined;
		this.#deadline = undefined;
	}
}
