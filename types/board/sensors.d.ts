/*
 * board/sensors: the sensor the config names. Every platform has "simulated"; esp32 also
 * has "adc". Every variant in modules/board/sensors/ is type-checked against this
 * declaration (test/contracts/board.ts).
 */
declare module "board/sensors" {
	import type { Sensor } from "app/ports";

	/** Throws (reported as a config problem at boot) for a kind this platform lacks. */
	export function createSensor(kind: string, adcPin: number): Sensor;
}
