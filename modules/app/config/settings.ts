/*
 * Settings: what the device keeps in Storage across boots, and the ranges those values
 * must be in. The one owner of each storage key and of the sampling-interval range
 * (which the `interval` config key and the telemetry.interval command share).
 *
 * - A stored value that is missing or out of range reads as undefined (or restarts the
 *   boot counter): storage survives firmware updates, so it may hold anything.
 * - The restart reason is stored by whoever restarts and read once at the next boot.
 */

import type { Storage } from "../ports";

/** Storage keys. */
export const KEY = Object.freeze({
	interval: "interval",	// ms between readings, set by telemetry.interval
	boot: "boot",			// boot counter
	reason: "reason",		// why the device restarted itself ("restart", "ota", "rollback"), "" once reported
	otaTrial: "otaTrial",	// the update version on trial, or that failed and is not reported yet ("" none); updates/trial.ts
	otaFrom: "otaFrom",		// the version the update on trial replaced: what a rollback returns to; updates/trial.ts
	otaBoots: "otaBoots",	// boots of the image on trial so far; updates/trial.ts
	otaCause: "otaCause",	// why the trial was reverted; updates/trial.ts
	releaseFailed: "releaseFailed",	// a release version that failed here: not installed again by the rollout; updates/fleet.ts
} as const);

/** ms between readings. */
export const INTERVAL_MIN = 1_000;
export const INTERVAL_MAX = 3_600_000;

export function isInterval(value: unknown): value is number {
	return typeof value === "number" && Number.isInteger(value) && value >= INTERVAL_MIN && value <= INTERVAL_MAX;
}

/** The sampling period persisted by telemetry.interval, if it is valid. */
export function storedInterval(storage: Storage): number | undefined {
	const stored = storage.get(KEY.interval);
	return isInterval(stored) ? stored : undefined;
}

export function storeInterval(storage: Storage, ms: number): void {
	storage.set(KEY.interval, ms);
}

/** Increments and persists the boot counter; a damaged value restarts it at 1. */
export function nextBoot(storage: Storage): number {
	const stored = storage.get(KEY.boot);
	const previous = typeof stored === "number" && Number.isInteger(stored) && stored >= 0 ? stored : 0;
	const boot = previous + 1;
	storage.set(KEY.boot, boot);
	return boot;
}

export function storeRestartReason(storage: Storage, reason: string): void {
	storage.set(KEY.reason, reason);
}

/** The stored restart reason, cleared as it is read; undefined when none is stored. */
export function takeRestartReason(storage: Storage): string | undefined {
	const stored = storage.get(KEY.reason);
	if (typeof stored !== "string" || !stored)
		return undefined;
	storage.set(KEY.reason, "");
	return stored;
}
