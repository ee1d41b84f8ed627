/*
 * ConfirmWindow: when an image on trial has shown it works, the moment OtaTrial
 * confirms it.
 *
 * - Healthy means one session that stayed online `after` ms (counted from online())
 *   in which the command gate opened (commands subscribed, the settle marker back:
 *   settled()) and a reading was delivered (its sync marker back: delivered()).
 *   onHealthy is called once, when the last of the three comes; when it answers
 *   false (the image could not be kept) the window waits for the next session.
 * - The window restarts with every session: offline() forgets the time and both
 *   conditions, so the next session must show all three by itself. An image whose
 *   connection cannot stay up `after` ms is not kept; the trial's deadline
 *   (otaConfirmTimeout) rolls it back. A restart before onHealthy confirms nothing
 *   either (the trial counts it as a failed boot).
 * - stop() ends it for good (the device stops, or the trial is over).
 */

import type { TimerHandle, Timers } from "../ports";

export const WindowState = Object.freeze({
	Offline: "offline",	// no session: nothing counts
	Open: "open",		// a session is up: waiting for the time and the conditions
	Healthy: "healthy",	// onHealthy was called
	Stopped: "stopped",
});
export type WindowState = typeof WindowState[keyof typeof WindowState];

/** What a session still has to show. */
const Need = Object.freeze({
	Time: "time online",
	Commands: "the command channel",
	Reading: "a delivered reading",
});
type Need = typeof Need[keyof typeof Need];

export interface ConfirmWindowOptions {
	timers: Timers;
	/** ms a session must stay online. */
	after: number;
	/** False: not kept after all; the next session gets a window of its own. */
	onHealthy(): boolean;
}

export class ConfirmWindow {
	#state: WindowState = WindowState.Offline;
	#missing: Need[] = [];
	#timer: TimerHandle | undefined;
	readonly #o: ConfirmWindowOptions;

	constructor(options: ConfirmWindowOptions) {
		this.#o = options;
	}

	get state(): WindowState { return this.#state; }

	/** A session is up: its own window starts. */
	online(): void {
		if (this.#state === WindowState.Healthy || this.#state === WindowState.Stopped)
			return;
		this.#clear();
		this.#state = WindowState.Open;
		this.#missing = [Need.Time, Need.Commands, Need.Reading];
		this.#timer = this.#o.timers.set(() => {
			this.#timer = undefined;
			this.#met(Need.Time);
		}, this.#o.after);
	}

	/** The session is gone: whatever it showed is forgotten. */
	offline(): void {
		if (this.#state !== WindowState.Open)
			return;
		this.#clear();
		this.#state = WindowState.Offline;
	}

	/** This session's command gate opened. */
	settled(): void { this.#met(Need.Commands); }

	/** A reading's sync marker came back in this session. */
	delivered(): void { this.#met(Need.Reading); }

	stop(): void {
		this.#clear();
		this.#state = WindowState.Stopped;
	}

	#met(need: Need): void {
		if (this.#state !== WindowState.Open)
			return;
		this.#missing = this.#missing.filter(other => other !== need);
		if (this.#missing.length)
			return;
		this.#clear();
		this.#state = WindowState.Healthy;
		if (!this.#o.onHealthy() && this.#state === WindowState.Healthy)
			this.#state = WindowState.Offline;
	}

	#clear(): void {
		this.#o.timers.clear(this.#timer);
		this.#timer = undefined;
	}
}
