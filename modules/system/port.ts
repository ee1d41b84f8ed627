/*
 * system/port: the core's System port on XS, plus the boot reason for the birth.
 *
 * - freeHeap() is the platform's reading (board/platform: a board's free ESP-IDF heap),
 *   else undefined.
 * - restart(reason) stores the reason in Preference, then calls the platform's
 *   restart: a reboot on a board, a soft restart of the app in a simulator.
 * - bootReason() returns the stored reason once ("restart", "ota"), else what the
 *   platform says ("power-on" where it cannot tell).
 */

import type { Storage, System } from "app/ports";
import { storeRestartReason, takeRestartReason } from "app/config/settings";

export interface SystemOptions {
	storage: Storage;
	rssi: () => number | undefined;
	restart: () => void;
	freeHeap: (() => number) | undefined;
}

export function createSystem(options: SystemOptions): System {
	const { freeHeap } = options;
	return {
		freeHeap: () => freeHeap?.(),
		rssi: options.rssi,
		restart(reason: string) {
			storeRestartReason(options.storage, reason);
			options.restart();
		},
	};
}

export function bootReason(storage: Storage, platformReason: () => string): string {
	return takeRestartReason(storage) ?? platformReason();
}
