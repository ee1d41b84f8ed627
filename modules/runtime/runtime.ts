/*
 * runtime: the core's Timers, Clock, Storage and Log on XS (every platform).
 *
 * - Timers wrap the SDK's `timer`; Clock.ticks is `Time.ticks`, and the wall clock
 *   counts as set once it is past 2024-01-01 (a board boots at 1970 until SNTP runs).
 * - Storage is the board's (board/storage: Preference on ESP32, each simulator build's
 *   own file); keys must stay within 15 bytes (the ESP32 NVS limit).
 * - Log writes one line per call to `trace`.
 */

import Timer from "timer";
import Time from "time";
import { createStorage } from "board/storage";
import type { Clock, Log, Storage, Timers, TimerHandle } from "app/ports";

const CLOCK_VALID_AFTER = 1_704_067_200_000;	// ms: 2024-01-01T00:00:00Z; earlier means never set

export const timers: Timers = {
	set: (callback, ms) => Timer.set(callback, ms),
	repeat: (callback, ms) => Timer.repeat(callback, ms),
	clear(handle: TimerHandle | undefined) {
		if (handle !== undefined)
			Timer.clear(handle as Timer);
	},
};

export const clock: Clock = {
	wallTime() {
		const now = Date.now();
		return now > CLOCK_VALID_AFTER ? now : null;
	},
	ticks: () => Time.ticks,
};

export const storage: Storage = createStorage();

export const log: Log = line => trace(line + "\n");
