/*
 * Fakes for the core's ports: deterministic time, a scriptable transport, a network
 * link the test flips, memory storage, a scripted sensor and a scripted random.
 *
 * - Nothing here runs by itself: time moves only in FakeTime.advance(), and a session's
 *   callbacks fire only when the test calls ready()/message()/closeByPeer(), so no
 *   callback is ever re-entrant from inside a call the core made (as ports.ts promises).
 */

import type { Clock, DigitalInput, DigitalOutput, Network, Pins, Sensor, Session, SessionEvents, SessionOptions, Storage, System, TimerHandle, Timers, Transport } from "../../../modules/app/ports";

interface FakeTimer {
	id: number;
	due: number;
	period: number | undefined;
	callback: () => void;
}

/** Timers and Clock on one fake time line; ticks start at `ticks`, the wall clock is unset unless `wall` is given. */
export class FakeTime implements Timers, Clock {
	#now: number;
	#wallOffset: number | undefined;	// wall = ticks + offset
	#timers = new Map<number, FakeTimer>();
	#nextId = 1;

	constructor(options: { ticks?: number; wall?: number | null } = {}) {
		this.#now = options.ticks ?? 0;
		if (options.wall !== undefined && options.wall !== null)
			this.setWall(options.wall);
	}

	// Clock
	ticks(): number { return this.#now; }
	wallTime(): number | null { return this.#wallOffset === undefined ? null : this.#now + this.#wallOffset; }
	setWall(ms: number): void { this.#wallOffset = ms - this.#now; }

	// Timers
	set(callback: () => void, ms: number): TimerHandle {
		return this.#add(callback, ms, undefined);
	}
	repeat(callback: () => void, ms: number): TimerHandle {
		if (!(ms > 0))
			throw new RangeError(`fake repeat with period ${ms} would never end`);
		return this.#add(callback, ms, ms);
	}
	clear(handle: TimerHandle | undefined): void {
		if (handle !== undefined)
			this.#timers.delete((handle as { id: number }).id);
	}

	/** Timers still scheduled. */
	get pending(): number { return this.#timers.size; }
	/** Milliseconds of each pending timer, sorted: for asserting what is scheduled. */
	get pendingDelays(): number[] { return [...this.#timers.values()].map(timer => timer.due - this.#now).sort((a, b) => a - b); }

	/** Moves time forward by `ms`, firing every timer that falls due, in order of due time then creation. */
	advance(ms: number): void {
		const target = this.#now + ms;
		for (let fired = 0; ; fired++) {
			if (fired > 1_000_000)
				throw new Error("fake timers: runaway timer loop");
			let next: FakeTimer | undefined;
			for (const timer of this.#timers.values())
				if (timer.due <= target && (!next || timer.due < next.due || (timer.due === next.due && timer.id < next.id)))
					next = timer;
			if (!next)
				break;
			this.#now = next.due;
			if (next.period === undefined)
				this.#timers.delete(next.id);
			else {
				// Re-register under a new id so same-time timers keep creation order.
				this.#timers.delete(next.id);
				next.id = this.#nextId++;
				next.due += next.period;
				this.#timers.set(next.id, next);
			}
			next.callback();
		}
		this.#now = target;
	}

	#add(callback: () => void, ms: number, period: number | undefined): TimerHandle {
		const timer: FakeTimer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), period, callback };
		this.#timers.set(timer.id, timer);
		// The handle keeps a reference to the timer so a repeat's handle follows its re-registration.
		const handle = { get id() { return timer.id; } };
		return handle;
	}
}

export interface Published {
	topic: string;
	payload: string;
	retain: boolean;
}

/** What a fake session does with one publish: accept it, refuse it (socket full), or throw (broken). */
export type PublishOutcome = "ok" | "full" | "throw";

export class FakeSession implements Session {
	readonly published: Published[] = [];
	readonly subscriptions: string[] = [];
	/** Every close(graceful) the core made, in order. */
	readonly closes: boolean[] = [];
	/** Decides each publish; the default accepts everything. */
	onPublish: (topic: string, payload: string, retain: boolean) => PublishOutcome = () => "ok";

	constructor(readonly options: SessionOptions, readonly events: SessionEvents, readonly index: number) {}

	get closed(): boolean { return this.closes.length > 0; }

	publish(topic: string, payload: string, retain: boolean): boolean {
		if (this.closed)
			throw new Error("publish on a closed session");
		const outcome = this.onPublish(topic, payload, retain);
		if (outcome === "throw")
			throw new Error("socket write failed");
		if (outcome === "full")
			return false;
		this.published.push({ topic, payload, retain });
		return true;
	}

	subscribe(topic: string): void {
		if (this.closed)
			throw new Error("subscribe on a closed session");
		this.subscriptions.push(topic);
	}

	close(graceful: boolean): void {
		this.closes.push(graceful);
	}

	// Driven by the test, as the runtime's event loop would.
	ready(): void { this.events.onReady(); }
	message(topic: string, payload: string, retained?: boolean): void { this.events.onMessage(topic, payload, retained); }
	closeByPeer(detail: string): void { this.events.onClose(detail); }
	refuse(code: number): void { this.events.onRefused(code); }

	/** Payloads published on `topic`, in order. */
	on(topic: string): string[] {
		return this.published.filter(message => message.topic === topic).map(message => message.payload);
	}
}

export class FakeTransport implements Transport {
	readonly sessions: FakeSession[] = [];
	/** When set, the next open() throws it (once), as a failing socket constructor would. */
	throwOnOpen: Error | undefined;

	open(options: SessionOptions, events: SessionEvents): Session {
		if (this.throwOnOpen) {
			const error = this.throwOnOpen;
			this.throwOnOpen = undefined;
			throw error;
		}
		const session = new FakeSession(options, events, this.sessions.length);
		this.sessions.push(session);
		return session;
	}

	get opens(): number { return this.sessions.length; }

	get last(): FakeSession {
		const session = this.sessions.at(-1);
		if (!session)
			throw new Error("no session was opened");
		return session;
	}
}

export class FakeNetwork implements Network {
	#up: boolean;
	#listener: ((up: boolean) => void) | undefined;
	listeners = 0;

	constructor(up = true) { this.#up = up; }

	isUp(): boolean { return this.#up; }

	onChange(listener: (up: boolean) => void): void {
		this.#listener = listener;
		this.listeners++;
	}

	/** Changes the link and tells the listener, as a WiFi adapter would. */
	set(up: boolean): void {
		this.#up = up;
		this.#listener?.(up);
	}
}

export class MemoryStorage implements Storage {
	readonly values = new Map<string, number | string>();

	constructor(initial: Record<string, number | string> = {}) {
		for (const [key, value] of Object.entries(initial))
			this.values.set(key, value);
	}

	get(key: string): number | string | undefined { return this.values.get(key); }
	set(key: string, value: number | string): void { this.values.set(key, value); }
}

/** A sensor whose n-th reading is {n}; `failing` makes read() throw. */
export class ScriptedSensor implements Sensor {
	reads = 0;
	failing = false;

	read(): Record<string, number> {
		this.reads++;
		if (this.failing)
			throw new Error("i2c timeout");
		return { n: this.reads };
	}
}

/** A random() that returns `values` in turn, cycling; `calls` counts draws. */
export function scriptedRandom(values: number[]): (() => number) & { calls: number } {
	if (!values.length)
		throw new Error("scriptedRandom needs at least one value");
	const random = Object.assign(() => values[random.calls++ % values.length], { calls: 0 });
	return random;
}

/** A Log that keeps its lines. */
export function recordingLog(): ((line: string) => void) & { lines: string[] } {
	const lines: string[] = [];
	return Object.assign((line: string) => { lines.push(line); }, { lines });
}

/** Pins in memory: levels by name, every write recorded; `failing` names cannot be opened. */
export class FakePins implements Pins {
	readonly levels = new Map<string, 0 | 1>();
	readonly writes: [string, 0 | 1][] = [];
	readonly opened: string[] = [];
	readonly failing = new Set<string>();
	/** Names whose write() throws. */
	readonly brokenWrites = new Set<string>();
	/** Names whose write() is recorded but does not change the level. */
	readonly stuck = new Set<string>();

	output(name: string, pin: number): DigitalOutput {
		this.#open(name, pin);
		return {
			write: value => {
				if (this.brokenWrites.has(name))
					throw new Error("gpio driver error");
				this.writes.push([name, value]);
				if (!this.stuck.has(name))
					this.levels.set(name, value);
			},
			read: () => this.levels.get(name) ?? 0,
		};
	}

	input(name: string, pin: number): DigitalInput {
		this.#open(name, pin);
		return { read: () => this.levels.get(name) ?? 0 };
	}

	#open(name: string, pin: number): void {
		if (this.failing.has(name))
			throw new Error(`GPIO ${pin} is in use`);
		this.opened.push(name);
	}
}

/** A System with fixed diagnostics that records restarts. */
export class FakeSystem implements System {
	readonly restarts: string[] = [];
	heap: number | undefined = 123_456;
	signal: number | undefined = -61;
	freeHeap(): number | undefined { return this.heap; }
	rssi(): number | undefined { return this.signal; }
	restart(reason: string): void { this.restarts.push(reason); }
}
