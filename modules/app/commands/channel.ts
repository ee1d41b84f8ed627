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
 *   Outbox (retried when the socket is full), or, when it cannot be answered, is not
 *   executed either. A command is executed only while fewer than `capacity` results
 *   wait for the socket and no refusal waits; otherwise it is refused with E_BUSY, not
 *   executed, and only its id is kept (up to REFUSED_BUDGET characters of ids) until
 *   the outbox has room for the refusal. Past that budget a command is neither
 *   executed nor answered, counted in `dropped` and logged. So a burst is answered
 *   in full, every id once, and never runs a command whose answer is lost.
 * - Plain output commands (receivePlain): "ON"/"1" or "OFF"/"0" on an output's
 *   `gpio/<name>/set` topic run as gpio.set through the same gate, intake limit,
 *   validation and state publishing, and are answered on the result topic like any
 *   command, with id null (a plain payload carries none); any other payload is
 *   E_RANGE. One refused as retained is also deleted at the broker (an empty retained
 *   message on its topic), since the command-topic deletion does not reach it.
 * - State: `{"gpio":{...}}` retained on the state topic on every session and whenever
 *   the snapshot (read back from the pins) differs from what was last published.
 * Limits: a legitimate command that arrives in the few milliseconds between subscribing
 * and the marker's return is refused too (E_RETAINED; send it again).
 */

import { TOO_LARGE, type Log, type Session, type TimerHandle, type Timers } from "../ports";
import type { Topics } from "../connection/topics";
import type { Commands } from "./table";
import type { Gpio } from "./gpio";
import { ErrorCode, describe, errorResult, type CommandId } from "./result";
import { parseCommand } from "./parse";
import { Outbox } from "../connection/outbox";

export const Gate = Object.freeze({
	Offline: "offline",	// no session
	Settling: "settling",	// subscribed, marker not back yet: commands are stale
	Open: "open",			// commands are executed
});
export type Gate = typeof Gate[keyof typeof Gate];

export interface CommandChannelOptions {
	topics: Topics;
	boot: number;
	commands: Commands;
	gpio: Gpio;
	timers: Timers;
	log: Log;
	/** Results waiting for a full socket; beyond it commands are refused with E_BUSY. */
	capacity: number;
	onSendFailed(detail: string): void;
	/** The gate opened: this session's marker came back from the broker. */
	onSettled?(): void;
}

/**
 * The id the device echoes in its answer to a command payload (null where it cannot
 * read one: too large, not JSON, an id of the wrong shape). npm start's live view
 * matches answers by it.
 */
export function answerId(payload: string): CommandId {
	return parseCommand(payload).id;
}

export const SETTLE_RETRY = 2_000;	// ms before the settle marker is sent again
export const REFUSED_BUDGET = 4_096;	// characters of refused ids kept for their E_BUSY answers
const REFUSED_OVERHEAD = 16;			// per kept id, for the list slot (an XS slot is 16 bytes)
const BUSY_MESSAGE = "too many results waiting for the socket; not executed, send it again";
const MARKER = () => /^cmd:(\d+):(\d+)$/;	// made on each use: a preloaded RegExp crashes XS (README, notes on changing the firmware)
const RETAINED_MESSAGE = "retained command not executed; publish it again without retain";
const PLAIN_LEVELS: Readonly<Record<string, 0 | 1>> = Object.freeze({ ON: 1, OFF: 0, "1": 1, "0": 0 });

export class CommandChannel {
	#gate: Gate = Gate.Offline;
	#marker = 0;		// the last marker number sent (counts up across sessions)
	#firstMarker = 0;	// the first marker of the current session
	#retry: TimerHandle | undefined;
	#lastState: string | undefined;
	readonly #refused: CommandId[] = [];	// commands refused while the outbox was full, to answer
	#refusedSize = 0;
	#answering = false;
	#dropped = 0;
	readonly outbox: Outbox;
	readonly #o: CommandChannelOptions;

	constructor(options: CommandChannelOptions) {
		this.#o = options;
		this.outbox = new Outbox({
			timers: options.timers, log: options.log, capacity: options.capacity, onSendFailed: options.onSendFailed,
			onSent: () => this.#answerRefused(),
		});
	}

	get gate(): Gate { return this.#gate; }
	/** Commands neither executed nor answered (the refusal budget was spent) since boot. */
	get dropped(): number { return this.#dropped; }
	/** Refused commands whose E_BUSY answer waits for room in the outbox. */
	get refused(): number { return this.#refused.length; }

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
		const match = MARKER().exec(payload);
		if (!match)
			return false;
		const n = Number(match[2]);
		if (this.#gate === Gate.Settling && Number(match[1]) === this.#o.boot && n >= this.#firstMarker && n <= this.#marker) {
			this.#gate = Gate.Open;
			this.#o.timers.clear(this.#retry);
			this.#retry = undefined;
			this.#o.onSettled?.();
		}
		return true;
	}

	receive(payload: string, retained: boolean): void {
		if (payload === "")
			return;
		const { id, op, args, error } = parseCommand(payload);
		if (this.#refused.length > 0 || this.outbox.results >= this.#o.capacity)
			return this.#refuse(id, op);
		let result: string;
		if (retained || this.#gate !== Gate.Open)
			result = errorResult(id, ErrorCode.Retained, RETAINED_MESSAGE);
		else if (error || op === undefined || args === undefined)
			result = errorResult(id, error ? error.code : ErrorCode.Shape, error ? error.message : "not a command");
		else
			result = this.#o.commands.execute(id, op, args);
		this.#answer(id, op, result);
	}

	/** A payload on the plain command topic `topic` of the output `pin`. */
	receivePlain(pin: string, topic: string, payload: string, retained: boolean): void {
		if (payload === "")
			return;
		if (this.#refused.length > 0 || this.outbox.results >= this.#o.capacity)
			return this.#refuse(null, "gpio.set");
		const value = Object.hasOwn(PLAIN_LEVELS, payload) ? PLAIN_LEVELS[payload] : undefined;
		let result: string;
		if (retained || this.#gate !== Gate.Open) {
			result = errorResult(null, ErrorCode.Retained, RETAINED_MESSAGE);
			this.outbox.put(topic, "", true);
		}
		else if (payload === TOO_LARGE)
			result = errorResult(null, ErrorCode.TooLarge, "payload too large to read: skipped before it was received whole");
		else if (value === undefined)
			result = errorResult(null, ErrorCode.Range, `payload ${describe(payload)} on ${describe(pin)}'s set topic is not ON, OFF, 1 or 0`);
		else
			result = this.#o.commands.execute(null, "gpio.set", { op: "gpio.set", pin, value });
		this.#answer(null, `gpio.set ${pin} (plain)`, result);
	}

	#answer(id: CommandId, op: string | undefined, result: string): void {
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

	/** No room for an answer: keep only the id, or, past the budget, count and log it. */
	#refuse(id: CommandId, op: string | undefined): void {
		const size = (typeof id === "string" ? id.length : 8) + REFUSED_OVERHEAD;
		if (this.#refusedSize + size > REFUSED_BUDGET) {
			this.#dropped++;
			this.#o.log(`cmd: ${id === null ? "(no id)" : JSON.stringify(id)} ${op ?? "?"} not executed and not answered: ${this.#refused.length} refusals already wait (${this.#dropped} dropped so far)`);
			return;
		}
		this.#refused.push(id);
		this.#refusedSize += size;
		this.#o.log(`cmd: ${id === null ? "(no id)" : JSON.stringify(id)} ${op ?? "?"} -> E_BUSY (${this.#o.capacity} results wait)`);
		this.#answerRefused();
	}

	/** Hands waiting refusals to the outbox while it has room (called when messages left). */
	#answerRefused(): void {
		if (this.#answering)
			return;	// push() below may flush and call back in
		this.#answering = true;
		while (this.#refused.length > 0 && this.outbox.results < this.#o.capacity) {
			const id = this.#refused.shift()!;
			this.#refusedSize -= (typeof id === "string" ? id.length : 8) + REFUSED_OVERHEAD;
			this.outbox.push(this.#o.topics.result, errorResult(id, ErrorCode.Busy, BUSY_MESSAGE));
		}
		this.#answering = false;
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
