/*
 * board/pins (device simulators, -p sim/<device>): the output named "led" is the
 * simulated board's LED (Host.LED); every other pin is virtual, as in the plain
 * Linux simulator.
 * - The LED reads back the level last written to it: Host.LED.read() asks the
 *   simulator's screen, which changes only after its UI has handled the write, so a
 *   read right after a write returned the old level (gpio.set answered the old value).
 */

import type { DigitalOutput, Log, Pins } from "app/ports";
import { createPins as createVirtualPins } from "board/pins/lin";

interface HostLed {
	write(value: number): void;
	read(): number;
}

class LedOutput implements DigitalOutput {
	readonly #led: HostLed;
	#level: 0 | 1;
	constructor(Led: new () => HostLed) {
		this.#led = new Led();
		this.#level = this.#led.read() ? 1 : 0;
	}
	write(value: 0 | 1): void {
		this.#led.write(value);
		this.#level = value;
	}
	read(): 0 | 1 {
		return this.#level;
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
