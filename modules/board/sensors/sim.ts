/*
 * board/sensors (simulators): only the deterministic simulated sensor exists here.
 * Asking for "adc" is a configuration error reported at boot, not a silent fallback.
 */

import type { Sensor } from "app/ports";
import { SimulatedSensor } from "app/simulated-sensor";

export function createSensor(kind: string, _adcPin: number): Sensor {
	if (kind === "simulated")
		return new SimulatedSensor();
	throw new Error(`sensor "${kind}" needs a board; simulators have only "simulated"`);
}
