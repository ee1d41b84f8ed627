/*
 * board/sensors (ESP32): the simulated sensor, or the ADC on one pin.
 *
 * - "adc" reads `pins/analog` (10-bit on the SDK's ESP32 port) and reports the raw
 *   count and the voltage against the 3.3 V reference, rounded to millivolts.
 */

import Analog from "pins/analog";
import type { Sensor } from "app/ports";
import { SimulatedSensor } from "app/simulated-sensor";

const FULL_SCALE = 1023;	// counts
const REFERENCE = 3.3;		// V

class AdcSensor implements Sensor {
	constructor(private readonly pin: number) {}

	read(): Record<string, number> {
		const raw = Analog.read(this.pin);
		return { adc: raw, voltage: Math.round(raw * REFERENCE * 1000 / FULL_SCALE) / 1000 };
	}
}

export function createSensor(kind: string, adcPin: number): Sensor {
	if (kind === "adc")
		return new AdcSensor(adcPin);
	if (kind === "simulated")
		return new SimulatedSensor();
	throw new Error(`sensor "${kind}" is not available on this board`);
}
