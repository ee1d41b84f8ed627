/*
 * Node adapters for the core's Pins and System ports.
 *
 * - NodePins: an in-memory pin bank. Every pin is a level (0 at start) by GPIO number;
 *   outputs record each write in `history`; tests and the emulator read levels by name
 *   and drive inputs with setInput(). Opening one GPIO twice, or one name on two GPIOs,
 *   throws, as a board's driver would refuse a pin already in use.
 * - NodeSystem: no free-heap figure (status says heap null, and the update headroom
 *   check does not apply, as in the simulators): a board's free heap has no counterpart
 *   here. What V8 could still allocate (about 4 GB on a large host) read as a board
 *   with gigabytes to spare and looked like the host's free memory; the process's own
 *   heap in use is not a *free* figure. No RSSI (no WiFi here); restart() is handed to
 *   the caller's callback (the emulator re-creates the device; tests record it).
 */

import type { DigitalInput, DigitalOutput, Pins, System } from "../modules/app/ports";

export interface PinWrite {
	name: string;
	pin: number;
	value: 0 | 1;
}

export class NodePins implements Pins {
	/** Every output write, in order. */
	readonly history: PinWrite[] = [];
	readonly #levels = new Map<number, 0 | 1>();
	readonly #names = new Map<string, number>();
	readonly #kinds = new Map<string, "output" | "input">();

	output(name: string, pin: number): DigitalOutput {
		this.#claim(name, pin, "output");
		return {
			write: value => {
				this.history.push({ name, pin, value });
				this.#levels.set(pin, value);
			},
			read: () => this.#levels.get(pin) ?? 0,
		};
	}

	input(name: string, pin: number): DigitalInput {
		this.#claim(name, pin, "input");
		return { read: () => this.#levels.get(pin) ?? 0 };
	}

	/** The level of a pin by configured name (undefined if it was never opened). */
	level(name: string): 0 | 1 | undefined {
		const pin = this.#names.get(name);
		return pin === undefined ? undefined : this.#levels.get(pin) ?? 0;
	}

	/** Every opened pin's level by name. */
	levels(): Record<string, 0 | 1> {
		const levels: Record<string, 0 | 1> = {};
		for (const [name, pin] of this.#names)
			levels[name] = this.#levels.get(pin) ?? 0;
		return levels;
	}

	/** Drives an input, as a button or a sensor line would. */
	setInput(name: string, value: 0 | 1): void {
		const pin = this.#names.get(name);
		if (pin === undefined || this.#kinds.get(name) !== "input")
			throw new Error(`"${name}" is not an opened input`);
		this.#levels.set(pin, value);
	}

	#claim(name: string, pin: number, kind: "output" | "input"): void {
		for (const [other, used] of this.#names)
			if (used === pin || other === name)
				throw new Error(`GPIO ${pin} ("${name}") is already in use as "${other}"`);
		this.#names.set(name, pin);
		this.#kinds.set(name, kind);
	}
}

export class NodeSystem implements System {
	readonly #restart: (reason: string) => void;

	constructor(restart: (reason: string) => void) {
		this.#restart = restart;
	}

	freeHeap(): number | undefined {
		return undefined;
	}

	rssi(): number | undefined {
		return undefined;
	}

	restart(reason: string): void {
		this.#restart(reason);
	}
}
