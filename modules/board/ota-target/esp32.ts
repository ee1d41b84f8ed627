/*
 * board/ota-target (ESP32): the next OTA partition through the SDK's `ota` module, and
 * the boot slots through ESP-IDF's app rollback (board/platform/rollback-esp32, native).
 *
 * - capacity is the size of the "nextota" partition, so an oversize image is refused
 *   from its Content-Length before a byte is written.
 * - complete() ends the update (ESP-IDF validates the image) and sets the boot
 *   partition; until then, and after cancel(), the running image stays the boot one.
 *   The new image boots in ESP_OTA_IMG_PENDING_VERIFY: the manifest turns on
 *   CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (./sdkconfig/sdkconfig.defaults).
 * - pending() is the running partition's state being pending-verify; confirm() marks
 *   it valid; revert() marks it invalid and reboots into the previous image (it does
 *   not return). The bootloader itself reverts a pending image that reboots before
 *   confirming (stricter than the core's boot count).
 * - version() is undefined: the running image's version is the FIRMWARE_VERSION it
 *   was built with.
 * Generated and type-checked here, never compiled or run (no ESP-IDF on this machine).
 */

import OTA from "ota";
import Flash from "flash";
import { markInvalidAndReboot, markValid, runningState } from "board/platform/rollback-esp32";
import type { BootSlots, Log, Storage, UpdateTarget } from "app/ports";

export interface BoardUpdateTarget extends UpdateTarget, BootSlots {
	version(): string | undefined;
}

export function createUpdateTarget(_name: string, log: Log, _storage: Storage): BoardUpdateTarget {
	const capacity = new Flash("nextota").byteLength;
	let update: OTA | undefined;
	return {
		capacity,
		begin(size: number) {
			if (size > capacity)
				throw new Error(`image of ${size} bytes exceeds the ${capacity}-byte OTA partition`);
			update?.cancel();
			update = new OTA();
		},
		write(chunk: ArrayBuffer) {
			if (!update)
				throw new Error("no update in progress");
			update.write(chunk);
		},
		complete(version: string) {
			if (!update)
				throw new Error("no update in progress");
			const finishing = update;
			update = undefined;
			finishing.complete();
			log(`ota: ${version} is the boot partition, pending verification`);
		},
		cancel() {
			const cancelling = update;
			update = undefined;
			try { cancelling?.cancel(); } catch { /* nothing was begun */ }
		},
		pending: () => runningState() === "pending-verify",
		confirm: markValid,
		revert: markInvalidAndReboot,
		version: () => undefined,
	};
}
