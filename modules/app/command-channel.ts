/*
 * CommandChannel: receives commands, refuses stale ones, answers every one it can,
 * and keeps the retained pin state current.
 *
 * - A retained command is never executed. Two independent rules:
 *   1. A message the transport marks retained (Node can tell; the XS client cannot) is
 *      refused with E_RETAINED.
 *   2. The settle marker. A broker sends a topic's retained message when the
 *      subscription is made, while it handles that SUBSCRIBE, so before anything the
 *      device sends after it. On every session the device subscribes (Device), then
 *      publishes an empty retained message to its command topic (which deletes any
 *      retained command at the broker) and the marker "cmd:<boot>:<n>" to its own
 *      sync topic. Until that marker comes back the gate is settling and every command
 *      is refused with E_RETAINED; after it, the gate is open. A marker lost on the way
 *      is sent again every SETTLE_RETRY ms.
 *   An empty payload (the deletion echoed back, or anyone's) is ignored: it carries
 *   nothing to execute and no id to answer.
 * - Every other payload gets exactly one result on the result topic, through the
 *   Outbox (bounded, retried when the socket is full).
 * - State: `{"gpio":{...}}` retained on the state topic on every session and whenever
 *   the snapshot (read back from the pins) differs from what was last published.
 * Limits: a legitimate command that arrives in the few milliseconds between subscribing
 * and the marker's return is refused too (E_RETAINED; send it again).
 */

import type { Log, Session, TimerHandle, Timers } from "./ports";
import type { Topics } from "./topics";
import type { Commands } from "./commands";
import type { Gpio } from "./gpio";
import { ErrorCode, errorResult } from "./command-result";
import { parseCommand } from "./command-parse";
import { Outbox } from "./outbox";

export enum Gate {
	Offline = "offline",	// no session
	Settling = "settling",	// subscribed, marker not back yet: commands are stale
	Open = "open",			// commands are executed
}

export interface CommandChannelOptions {
	topics: Topics;
	boot: number;
	commands: Commands;
	gpio: Gpio;
	timers: Timers;
	log: Log;
	/** Results waiting for a full socket (older ones are dropped beyond it). */
	capacity: number;
	onSendFailed(detail: string): void;
}

export const SETTLE_RETRY = 2_000;	// ms before the settle marker is sent again
const MARKER = /^cmd:(\d+):(\d+)$/;

export class CommandChannel {
	#gate = Gate.Offline;
	#marker = 0;		// the last marker number sent (counts up across sessions)
	#firstMarker = 0;	// the first marker of the current session
	#retry: TimerHandle | undefined;
	#lastState: string | undefined;
	readonly outbox: Outbox;
	readonly #o: CommandChannelOptions;

	constructor(options: CommandChannelOptions) {
		this.#o = options;
		this.outbox = new Outbox({ timers: options.timers, log: options.log, capacity: options.capacity, onSendFailed: options.onSendFailed });
	}

	get gate(): Gate { return this.#gate; }

	/** The session is subscribed to the command and sync topics. */
	attach(session: Session): void {
		this.#gate = Gate.Settling;
		this.#lastState = undefined;
		this.#firstMarker = this.#marker + 1;
		this.outbox.put(this.#o.topics.command, "", true);	// deletes a retained command at the broker
		this.#sendMarker();
		this.publishState();
		this.outbox.attach(session);
	}

	detach(): void {
		this.#gate = Gate.Offline;
		this.#o.timers.clear(this.#retry);
		this.#retry = undefined;
		this.outbox.detach();
	}

	/** A message on the sync topic: true if it was a command marker (ours or stale). */
	sync(payload: string): boolean {
		const match = MARKER.exec(payload);
		if (!match)
			return false;
		const n = Number(match[2]);
		if (this.#gate === Gate.Settling && Number(match[1]) === this.#o.boot && n >= this.#firstMarker && n <= this.#marker) {
			this.#gate = Gate.Open;
			this.#o.timers.clear(this.#retry);
			this.#retry = undefined;
		}
		return true;
	}

	receive(payload: string, retained: boolean): void {
		if (payload === "")
			return;
		const { id, op, args, error } = parseCommand(payload);
		let result: string;
		if (retained || this.#gate !== Gate.Open)
			result = errorResult(id, ErrorCode.Retained, "retained command not executed; publish it again without retain");
		else if (error || op === undefined || args === undefined)
			result = errorResult(id, error ? error.code : ErrorCode.Shape, error ? error.message : "not a command");
		else
			result = this.#o.commands.execute(id, op, args);
		this.#o.log(`cmd: ${id === null ? "(no id)" : JSON.stringify(id)} ${op ?? "?"} -> ${result.length > 120 ? result.slice(0, 120) + "..." : result}`);
		this.outbox.push(this.#o.topics.result, result);
	}

	/** Publishes the pin state if it changed since it was last published on this session. */
	publishState(): void {
		const { gpio, topics, log } = this.#o;
		if (!gpio.hasPins)
			return;
		let state: string;
		try {
			state = JSON.stringify({ gpio: gpio.snapshot() });
		}
		catch (error) {
			log(`gpio: reading the pins failed: ${error}`);
			return;
		}
		if (state === this.#lastState)
			return;
		this.#lastState = state;
		this.outbox.put(topics.state, state, true);
	}

	#sendMarker(): void {
		this.outbox.put(this.#o.topics.sync, `cmd:${this.#o.boot}:${++this.#marker}`, false);
		this.#retry = this.#o.timers.set(() => {
			this.#retry = undefined;
			if (this.#gate === Gate.Settling)
				this.#sendMarker();
		}, SETTLE_RETRY);
	}
}
