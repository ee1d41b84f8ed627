/*
 * board/pins (device simulators, -p sim/<device>): the output named "led" is the
 * simulated board's LED (Host.LED), read back from the simulator's screen; every
 * other pin is virtual, as in the plain Linux simulator.
 */

import type { DigitalOutput, Log, Pins } from "app/ports";
import { createPins as createVirtualPins } from "board/pins/lin";

interface HostLed {
	write(value: number): void;
	read(): number;
}


class LedOutput implements DigitalOutput {
	readonly #led: HostLed;
	constructor(Led: new () => HostLed) {
		this.#led = new Led();
	}
	write(value: 0 | 1): void {
		this.#led.write(value);
	}
	read(): 0 | 1 {
		return this.#led.read() ? 1 : 0;
	}
}

export function createPins(log: Log): Pins {
	const virtual = createVirtualPins(log);
	// Host is a global the device simulators define at run time (read here, not at
	// module level: preloaded module bodies run at build time).
	const Led = (globalThis as { Host?: { LED?: { Default?: new () => HostLed } } }).Host?.LED?.Default;
	return {
		output: (name, pin) => name === "led" && Led ? new LedOutput(Led) : virtual.output(name, pin),
		input: (name, pin) => virtual.input(name, pin),
	};
}
