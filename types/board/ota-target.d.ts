/*
 * board/ota-target: where an update is written. esp32: the next OTA partition;
 * simulators: a file. Every variant in modules/board/ota-target/ is type-checked
 * against this declaration (test/contracts/board.ts).
 */
declare module "board/ota-target" {
	import type { Log, UpdateTarget } from "app/ports";

	/** `name` (the device id) names the simulators' file; a board has one partition. */
	export function createUpdateTarget(name: string, log: Log): UpdateTarget;
}
