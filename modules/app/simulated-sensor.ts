/*
 * SimulatedSensor: a deterministic stand-in for hardware, the default in simulators
 * and on Node. Reading n is a slow sine around 21.5 °C and 45 %RH, so the same run
 * always produces the same values and a plot of them looks like a sensor.
 */

import type { Sensor, SensorValue } from "./ports";

export class SimulatedSensor implements Sensor {
	#count = 0;

	read(): Record<string, number> {
		const n = this.#count++;
		return {
			temperature: round(21.5 + 1.5 * Math.sin(n / 10)),
			humidity: round(45 + 5 * Math.cos(n / 15)),
		};
	}

	describe(): SensorValue[] {
		return [
			{ name: "temperature", deviceClass: "temperature", unit: "°C", stateClass: "measurement" },
			{ name: "humidity", deviceClass: "humidity", unit: "%", stateClass: "measurement" },
		];
	}
}

function round(value: number): number {
	return Math.round(value * 100) / 100;
}
