/*
 * board/storage (ESP32): the device's key/value store is the SDK's Preference (NVS),
 * domain "app"; it survives reboots and app updates.
 *
 * - Keys must stay within 15 bytes (the NVS limit). A failed write is traced, not
 *   thrown: losing a boot counter must not stop the device.
 * - fileRoot() is undefined: a board keeps no files of its own here.
 */

import Preference from "preference";
import type { Storage } from "app/ports";

const DOMAIN = "app";

export function createStorage(): Storage {
	return Object.freeze({
		get(key: string) {
			const value = Preference.get(DOMAIN, key);
			return typeof value === "number" || typeof value === "string" ? value : undefined;
		},
		set(key: string, value: number | string) {
			try {
				Preference.set(DOMAIN, key, value);
			}
			catch (error) {
				trace(`storage: cannot keep ${key}: ${error}\n`);
			}
		},
	});
}

export function fileRoot(): string | undefined {
	return undefined;
}
