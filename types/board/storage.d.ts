/*
 * board/storage: where the device keeps what must survive a restart. esp32: Preference
 * (NVS); simulators: files of each build's own. Every variant in modules/board/storage/
 * is type-checked against this declaration (test/contracts/board.ts).
 */
declare module "board/storage" {
	import type { Storage } from "app/ports";

	/** The device's persistent key/value store. */
	export function createStorage(): Storage;
	/** The directory (ending in "/") for the simulators' own files; undefined on a board. */
	export function fileRoot(): string | undefined;
}
