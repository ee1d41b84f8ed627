/*
 * Node adapters for the core's ports (modules/app/ports.ts), except the transport.
 *
 * - Timers and Clock map to Node's timers, Date.now and performance.now; the wall
 *   clock is always set on a host.
 * - MemoryStorage keeps values in a Map and, given a path, mirrors them to a JSON file
 *   (a damaged file is ignored, as a wiped Preference would be).
 * - SwitchableNetwork is always up unless a test calls set(false) to simulate link
 *   loss; listeners are called from the event loop, never inside set().
 * - LineLog prints each line with a timestamp prefix and/or collects it for tests.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Clock, Network, Storage, TimerHandle, Timers } from "../modules/app/ports";

export const nodeTimers: Timers = {
	set(callback: () => void, ms: number): TimerHandle {
		return setTimeout(callback, ms);
	},
	repeat(callback: () => void, ms: number): TimerHandle {
		return setInterval(callback, ms);
	},
	clear(handle: TimerHandle | undefined): void {
		// clearTimeout and clearInterval are interchangeable in Node; undefined is a no-op.
		if (handle !== undefined)
			clearTimeout(handle as NodeJS.Timeout);
	},
};

export const nodeClock: Clock = {
	wallTime: () => Date.now(),
	ticks: () => Math.floor(performance.now()),
};

export class MemoryStorage implements Storage {
	readonly #values = new Map<string, number | string>();
	readonly #path: string | undefined;

	constructor(path?: string) {
		this.#path = path;
		if (path && existsSync(path)) {
			try {
				const saved: unknown = JSON.parse(readFileSync(path, "utf8"));
				if (saved && typeof saved === "object")
					for (const [key, value] of Object.entries(saved))
						if (typeof value === "number" || typeof value === "string")
							this.#values.set(key, value);
			}
			catch { /* unreadable: start empty */ }
		}
	}

	get(key: string): number | string | undefined {
		return this.#values.get(key);
	}

	set(key: string, value: number | string): void {
		this.#values.set(key, value);
		if (this.#path)
			writeFileSync(this.#path, JSON.stringify(Object.fromEntries(this.#values), null, "\t") + "\n");
	}
}

export class SwitchableNetwork implements Network {
	#up: boolean;
	#listener: ((up: boolean) => void) | undefined;

	constructor(up = true) {
		this.#up = up;
	}

	isUp(): boolean {
		return this.#up;
	}

	onChange(listener: (up: boolean) => void): void {
		this.#listener = listener;
	}

	/** Simulates the link going up or down; the listener hears it on the next turn. */
	set(up: boolean): void {
		if (up === this.#up)
			return;
		this.#up = up;
		setImmediate(() => {
			if (this.#up === up)
				this.#listener?.(up);
		});
	}
}

export interface LineLogOptions {
	/** Print to stdout (default true). */
	print?: boolean;
	/** Prefix after the timestamp, e.g. the device id. */
	prefix?: string;
}

/** A Log that timestamps lines, prints them and keeps them in `lines` for tests. */
export class LineLog {
	readonly lines: string[] = [];
	readonly #print: boolean;
	readonly #prefix: string;
	readonly log = (line: string): void => {
		this.lines.push(line);
		if (this.#print)
			console.log(`${new Date().toISOString().slice(11, 23)} ${this.#prefix}${line}`);
	};

	constructor(options: LineLogOptions = {}) {
		this.#print = options.print ?? true;
		this.#prefix = options.prefix ? options.prefix + " " : "";
	}
}
