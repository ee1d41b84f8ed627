/*
 * board/pins (Linux simulator): virtual pins that hold their level and trace changes.
 *
 * - An output's read() returns the level it holds, so the core's read-back path is the
 *   same as on a board; every write that changes it traces "pin <name>(<n>) -> <v>".
 * - Inputs read 0: the plain simulator has no way to press a button.
 */

import type { DigitalInput, DigitalOutput, Log, Pins } from "app/ports";

export class VirtualOutput implements DigitalOutput {
	#level: 0 | 1 = 0;
	constructor(private readonly name: string, private readonly pin: number, private readonly log: Log) {}

	write(value: 0 | 1): void {
		if (value !== this.#level)
			this.log(`pin ${this.name}(${this.pin}) -> ${value}`);
		this.#level = value;
	}

	read(): 0 | 1 {
		return this.#level;
	}
}

export function createPins(log: Log): Pins {
	return {
		output: (name, pin) => new VirtualOutput(name, pin, log),
		input: (): DigitalInput => ({ read: () => 0 }),
	};
}
