/*
 * Outbox: the small, bounded buffer between the command side and a socket that may be
 * momentarily full.
 *
 * - push(): a message that must not be lost to a full socket (a command result, an
 *   update's state change, a step of Home Assistant's handover, retained when asked). At most `capacity` wait; one more drops the oldest waiting
 *   one, counted in `dropped` and logged (the command channel never lets it come to
 *   that: it checks `results` first, see commands/channel.ts).
 * - put(): a latest-wins message (retained state, a marker): a newer one for the same
 *   topic replaces the waiting one in place, so it never costs more than one slot.
 * - A message larger than one publish may carry (limits.ts MAX_MESSAGE, for example a
 *   Home Assistant discovery grown with the pins and the id) is never handed to the
 *   session: it is dropped, counted in `unsendable`, logged once per topic and passed
 *   to onUnsendable, and the session stays up. Were it written, the transport would
 *   refuse it, the session would end and the next session would try it again: the
 *   device would reconnect forever and publish nothing else.
 * - Messages leave in order. A publish that returns false (socket full) is retried
 *   RETRY ms later; one that throws ends the session through onSendFailed, and what is
 *   still waiting goes out on the next session. onSent (optional) is called after a
 *   flush that sent something, never from inside push() or put().
 * Limits: only what is waiting is bounded; a message handed to the socket is gone
 * (QoS 0): a result written just before the connection dies may never arrive.
 */

import type { Log, Session, TimerHandle, Timers } from "../ports";
import { MAX_MESSAGE, publishSize } from "../limits";

export interface OutboxOptions {
	timers: Timers;
	log: Log;
	capacity: number;
	onSendFailed(detail: string): void;
	/** Messages left: there may be room now. */
	onSent?(): void;
	/** A message too large for any publish was dropped (see above). */
	onUnsendable?(topic: string, bytes: number): void;
}

interface Message {
	topic: string;
	payload: string;
	retain: boolean;
	latest: boolean;	// replaced by a newer put() for the same topic
}

export const RETRY = 50;	// ms before a full socket is tried again

export class Outbox {
	#waiting: Message[] = [];
	#session: Session | undefined;
	#retry: TimerHandle | undefined;
	#dropped = 0;
	#unsendable = 0;
	readonly #reported: string[] = [];	// topics whose unsendable message was logged
	readonly #o: OutboxOptions;

	constructor(options: OutboxOptions) {
		this.#o = options;
	}

	get dropped(): number { return this.#dropped; }
	/** Messages dropped because no publish can carry them. */
	get unsendable(): number { return this.#unsendable; }
	get waiting(): number { return this.#waiting.length; }
	/** push()ed messages waiting (latest-wins ones do not count against `capacity`). */
	get results(): number { return this.#waiting.filter(message => !message.latest).length; }

	attach(session: Session): void {
		this.#session = session;
		this.#flushAndTell();
	}

	detach(): void {
		this.#session = undefined;
		this.#o.timers.clear(this.#retry);
		this.#retry = undefined;
	}

	push(topic: string, payload: string, retain = false): void {
		if (this.results >= this.#o.capacity) {
			const oldest = this.#waiting.findIndex(message => !message.latest);
			this.#waiting.splice(oldest, 1);
			this.#dropped++;
			this.#o.log(`outbox: full, dropped the oldest result (${this.#dropped} dropped so far)`);
		}
		this.#waiting.push({ topic, payload, retain, latest: false });
		this.#flush();
	}

	put(topic: string, payload: string, retain: boolean): void {
		const message = { topic, payload, retain, latest: true };
		const at = this.#waiting.findIndex(waiting => waiting.latest && waiting.topic === topic);
		if (at >= 0)
			this.#waiting[at] = message;
		else
			this.#waiting.push(message);
		this.#flush();
	}

	#flushAndTell(): void {
		const before = this.#waiting.length;
		this.#flush();
		if (this.#waiting.length < before)
			this.#o.onSent?.();
	}

	#flush(): void {
		const session = this.#session;
		if (!session || this.#retry !== undefined)
			return;
		try {
			while (this.#waiting.length) {
				const { topic, payload, retain } = this.#waiting[0];
				const bytes = publishSize(topic, payload);
				if (bytes > MAX_MESSAGE) {
					this.#waiting.shift();
					this.#refuse(topic, bytes);
					continue;
				}
				if (!session.publish(topic, payload, retain)) {
					this.#retry = this.#o.timers.set(() => {
						this.#retry = undefined;
						this.#flushAndTell();
					}, RETRY);
					return;
				}
				this.#waiting.shift();
			}
		}
		catch (error) {
			this.#o.onSendFailed(`outbox publish: ${error}`);
		}
	}

	#refuse(topic: string, bytes: number): void {
		this.#unsendable++;
		if (!this.#reported.includes(topic)) {
			this.#reported.push(topic);
			this.#o.log(`outbox: not sent: ${bytes} bytes on ${topic} exceed the ${MAX_MESSAGE} one publish carries (the device stays online)`);
		}
		this.#o.onUnsendable?.(topic, bytes);
	}
}
