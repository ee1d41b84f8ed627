/*
 * UpdateProgress: what an update tells the ota topic, through its own Outbox.
 *
 * - A message is {"state","version","received","total"} (total null until the
 *   response) plus "error" {code, message} when failed; the message is cut at
 *   MAX_MESSAGE characters.
 * - change(): a state change waits in line (at most WAITING while the socket is full),
 *   so a full socket loses nothing silently; step(): a download step is latest-wins,
 *   and offline the newest step waits for the next session.
 * - The outbox is shared with the boot confirmation (trial.ts publishes through it).
 */

import type { Log, Timers } from "../ports";
import { Outbox } from "../connection/outbox";
import type { OtaReason } from "./request";

export interface ProgressFields {
	state: string;
	version: string | null;
	received: number;
	total: number | null;
}

export interface ProgressOptions {
	topic: string;
	timers: Timers;
	log: Log;
	onSendFailed(detail: string): void;
}

const WAITING = 6;			// state changes kept while the socket is full
export const MAX_MESSAGE = 120;	// characters of a failure message

/** A failure message cut to MAX_MESSAGE characters. */
export function shortMessage(message: string): string {
	return message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) + "..." : message;
}

export class UpdateProgress {
	readonly outbox: Outbox;
	readonly #topic: string;

	constructor(options: ProgressOptions) {
		this.#topic = options.topic;
		this.outbox = new Outbox({ timers: options.timers, log: options.log, capacity: WAITING, onSendFailed: options.onSendFailed });
	}

	/** A state change: waits in line. */
	change(fields: ProgressFields, error?: { code: OtaReason; message: string }): void {
		this.outbox.push(this.#topic, JSON.stringify({ ...fields, ...(error ? { error } : {}) }));
	}

	/** A download step: replaces the one still waiting. */
	step(fields: ProgressFields): void {
		this.outbox.put(this.#topic, JSON.stringify(fields), false);
	}
}
