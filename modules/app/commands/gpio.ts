/*
 * Gpio: the configured outputs and inputs, addressed by name only.
 *
 * - Outputs (`config.outputs`) and inputs (`config.inputs`) are opened once through the
 *   Pins port. A name that is not configured, that is an input where an output is
 *   needed, or whose pin failed to open is refused (PinError "unknown"); there is no
 *   way to reach a pin by number. Without a Pins port every name is "unknown".
 * - Every value reported is read back from the pin (DigitalOutput.read()), never the
 *   value that was asked for; onChange() is called after every write and every
 *   debounced input change, and the caller publishes the state from snapshot().
 * - pulse(name, ms) inverts the output for `ms` and then restores the level it had.
 *   While a pulse runs, every write to that pin (set, toggle, pulse) is refused
 *   ("busy"), so the restore can never overwrite a newer command. stop() ends running
 *   pulses at once.
 * - Refusals and failed writes throw PinError with a PinFault; the command layer
 *   decides what they are called on the wire.
 * - Inputs are sampled every POLL ms; a new level counts once it was read SAMPLES times
 *   in a row (debounce), and only then is it reported.
 * Limits: no pull-up/down or open-drain settings (the Pins adapter decides); levels
 * are logical 0/1, active-low wiring is the adapter's business.
 */

import type { DigitalInput, DigitalOutput, Log, Pins, TimerHandle, Timers } from "../ports";
import { describe } from "../describe";

export type Level = 0 | 1;

export enum PinFault {
	Unknown = "unknown",		// not configured, not an output, or failed to open
	Busy = "busy",				// in the middle of a pulse
	WriteFailed = "write-failed",	// the Pins adapter threw
}

export class PinError extends Error {
	constructor(readonly fault: PinFault, message: string) {
		super(message);
	}
}

export interface GpioOptions {
	/** Undefined where the platform has no pins adapter (yet). */
	pins: Pins | undefined;
	outputs: Record<string, number>;
	inputs: Record<string, number>;
	timers: Timers;
	log: Log;
	onChange(): void;
}

export const POLL = 20;		// ms between input samples
export const SAMPLES = 3;	// equal samples before an input change counts

interface Output {
	pin: DigitalOutput;
	pulse: TimerHandle | undefined;
	restore: Level;
}

interface Input {
	pin: DigitalInput;
	stable: Level;
	candidate: Level;
	count: number;
}

export class Gpio {
	readonly #outputs = new Map<string, Output>();
	readonly #inputs = new Map<string, Input>();
	readonly #unavailable = new Map<string, string>();	// configured name -> why it cannot be used
	#poller: TimerHandle | undefined;
	readonly #o: GpioOptions;

	constructor(options: GpioOptions) {
		this.#o = options;
		const { pins, outputs, inputs, log } = options;
		for (const [name, number] of Object.entries(outputs))
			this.#open(name, number, pins, () => this.#outputs.set(name, { pin: pins!.output(name, number), pulse: undefined, restore: 0 }));
		for (const [name, number] of Object.entries(inputs))
			this.#open(name, number, pins, () => {
				const pin = pins!.input(name, number);
				const level = pin.read();
				this.#inputs.set(name, { pin, stable: level, candidate: level, count: 0 });
			});
		if (this.#unavailable.size)
			log(`gpio: unavailable: ${[...this.#unavailable].map(([name, why]) => `${name} (${why})`).join(", ")}`);
	}

	/** True when at least one pin is usable (otherwise there is no state to publish). */
	get hasPins(): boolean { return this.#outputs.size + this.#inputs.size > 0; }

	start(): void {
		if (this.#inputs.size && this.#poller === undefined)
			this.#poller = this.#o.timers.repeat(() => this.#poll(), POLL);
	}

	/** Stops sampling and ends every running pulse now, restoring its level. */
	stop(): void {
		this.#o.timers.clear(this.#poller);
		this.#poller = undefined;
		for (const output of this.#outputs.values())
			if (output.pulse !== undefined) {
				this.#o.timers.clear(output.pulse);
				output.pulse = undefined;
				try { output.pin.write(output.restore); } catch { /* stopping anyway */ }
			}
	}

	set(name: string, level: Level): Level {
		return this.#write(name, this.#idle(name), level);
	}

	toggle(name: string): Level {
		const output = this.#idle(name);
		return this.#write(name, output, output.pin.read() ? 0 : 1);
	}

	/** Inverts the output for `ms`, then restores it; returns the level during the pulse. */
	pulse(name: string, ms: number): Level {
		const output = this.#idle(name);
		const before = output.pin.read();
		const level = this.#write(name, output, before ? 0 : 1);
		output.restore = before;
		output.pulse = this.#o.timers.set(() => {
			output.pulse = undefined;
			try {
				output.pin.write(before);
			}
			catch (error) {
				this.#o.log(`gpio: restoring "${name}" after a pulse failed: ${error}`);
			}
			this.#o.onChange();
		}, ms);
		return level;
	}

	/** The level of an output (read back) or the debounced level of an input. */
	get(name: string): Level {
		const output = this.#outputs.get(name);
		if (output)
			return output.pin.read();
		const input = this.#inputs.get(name);
		if (input)
			return input.stable;
		throw this.#unknown(name, "pin");
	}

	/** Every usable pin: outputs read back, inputs debounced. */
	snapshot(): Record<string, Level> {
		const state: Record<string, Level> = {};
		for (const [name, output] of this.#outputs)
			state[name] = output.pin.read();
		for (const [name, input] of this.#inputs)
			state[name] = input.stable;
		return state;
	}

	#open(name: string, number: number, pins: Pins | undefined, open: () => void): void {
		if (!pins) {
			this.#unavailable.set(name, "no pins on this platform");
			return;
		}
		try {
			open();
		}
		catch (error) {
			this.#unavailable.set(name, `GPIO ${number} failed to open: ${String(error).slice(0, 60)}`);
		}
	}

	/** The named output if it is not pulsing; throws PinError (unknown or busy). */
	#idle(name: string): Output {
		const output = this.#outputs.get(name);
		if (!output)
			throw this.#inputs.has(name)
				? new PinError(PinFault.Unknown, `pin "${name}" is an input, not an output`)
				: this.#unknown(name, "output");
		if (output.pulse !== undefined)
			throw new PinError(PinFault.Busy, `pin "${name}" is busy with a pulse`);
		return output;
	}

	#write(name: string, output: Output, level: Level): Level {
		try {
			output.pin.write(level);
		}
		catch (error) {
			throw new PinError(PinFault.WriteFailed, `pin "${name}": write failed: ${String(error).slice(0, 60)}`);
		}
		const actual = output.pin.read();
		this.#o.onChange();
		return actual;
	}

	#unknown(name: string, kind: string): PinError {
		const why = this.#unavailable.get(name);
		return new PinError(PinFault.Unknown, why ? `pin "${name}" is unavailable: ${why}` : `pin ${describe(name)} is not a configured ${kind}`);
	}

	#poll(): void {
		let changed = false;
		for (const [name, input] of this.#inputs) {
			let level: Level;
			try {
				level = input.pin.read();
			}
			catch {
				continue;	// a failed sample is no evidence either way
			}
			if (level === input.stable)
				input.count = 0;
			else {
				input.count = level === input.candidate ? input.count + 1 : 1;
				input.candidate = level;
				if (input.count >= SAMPLES) {
					input.stable = level;
					input.count = 0;
					changed = true;
					this.#o.log(`gpio: input "${name}" is now ${level}`);
				}
			}
		}
		if (changed)
			this.#o.onChange();
	}
}
