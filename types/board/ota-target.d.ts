/*
 * board/ota-target: where an update is written, and the boot slots behind it. esp32:
 * the next OTA partition and ESP-IDF's app rollback; simulators: files and Storage.
 * Every variant in modules/board/ota-target/ is type-checked against this declaration
 * (test/contracts/board.ts).
 */
declare module "board/ota-target" {
	import type { BootSlots, Log, Storage, UpdateTarget } from "app/ports";

	export interface BoardUpdateTarget extends UpdateTarget, BootSlots {
		/** The version of the image that boots where the target records it (simulators), else undefined (the built-in FIRMWARE_VERSION). */
		version(): string | undefined;
	}

	/** `name` (the device id) names the simulators' files; `storage` keeps their slot versions. */
	export function createUpdateTarget(name: string, log: Log, storage: Storage): BoardUpdateTarget;
}
