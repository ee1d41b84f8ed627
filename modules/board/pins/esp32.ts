/*
 * board/pins (ESP32): GPIO through the SDK's `pins/digital`.
 *
 * - Outputs start low. An ESP32 pin in output mode has its input buffer off, so
 *   reading the pin returns 0 whatever it drives: read() reports the level this
 *   adapter latched into the output register, which is what the pin drives.
 * - Inputs use the internal pull-up (a button to ground reads 1 when released);
 *   the core debounces them.
 */

import Digital from "pins/digital";
import type { DigitalInput, DigitalOutput, Log, Pins } from "app/ports";

class GpioOutput implements DigitalOutput {
	readonly #pin: Digital;
	#level: 0 | 1 = 0;
	constructor(pin: number) {
		this.#pin = new Digital({ pin, mode: Digital.Output });
		this.#pin.write(0);
	}
	write(value: 0 | 1): void {
		this.#pin.write(value);
		this.#level = value;
	}
	read(): 0 | 1 {
		return this.#level;
	}
}

class GpioInput implements DigitalInput {
	readonly #pin: Digital;
	constructor(pin: number) {
		this.#pin = new Digital({ pin, mode: Digital.InputPullUp });
	}
	read(): 0 | 1 {
		return this.#pin.read() ? 1 : 0;
	}
}

export function createPins(_log: Log): Pins {
	return {
		output: (_name, pin) => new GpioOutput(pin),
		input: (_name, pin) => new GpioInput(pin),
	};
}
