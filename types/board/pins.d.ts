/*
 * board/pins: the GPIO bank behind the core's Pins port. esp32: pins/digital; plain lin:
 * virtual pins that trace their changes; sim/<device>: the simulator's LED for the
 * output named "led". Every variant in modules/board/pins/ is type-checked against this
 * declaration (test/contracts/board.ts).
 */
declare module "board/pins" {
	import type { Log, Pins } from "app/ports";

	export function createPins(log: Log): Pins;
}
