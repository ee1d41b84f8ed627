/*
 * OfflineQueue: the bounded, ordered store of readings not yet known to be delivered.
 *
 * - Holds at most `capacity` entries; adding to a full queue drops the oldest entry
 *   and counts it in `dropped` (the newest data is the most useful after an outage).
 * - Entries are handed out in order with peekUnsent() then markSent() (for as many as
 *   the caller managed to send); they stay in the queue until
 *   confirm(key) says the broker has them, and rewind() makes sent-but-unconfirmed
 *   entries unsent again after a connection is lost (at-least-once delivery).
 * - Keys must increase in insertion order (the reading's seq).
 */

interface Entry<T> {
	key: number;
	value: T;
}

export class OfflineQueue<T> {
	readonly capacity: number;
	#entries: Entry<T>[] = [];
	#sent = 0;		// entries [0, #sent) were handed out and await confirmation
	#dropped = 0;

	constructor(capacity: number) {
		if (!(capacity >= 1))
			throw new RangeError(`queue capacity ${capacity} must be at least 1`);
		this.capacity = capacity;
	}

	get length(): number {
		return this.#entries.length;
	}

	get unsent(): number {
		return this.#entries.length - this.#sent;
	}

	get dropped(): number {
		return this.#dropped;
	}

	push(key: number, value: T): void {
		if (this.#entries.length >= this.capacity) {
			this.#entries.shift();
			this.#dropped++;
			if (this.#sent > 0)
				this.#sent--;
		}
		this.#entries.push({ key, value });
	}

	/** Up to `count` of the oldest unsent entries, still unsent. */
	peekUnsent(count: number): T[] {
		const end = Math.min(this.#entries.length, this.#sent + count);
		return this.#entries.slice(this.#sent, end).map(entry => entry.value);
	}

	/** Marks the next `count` unsent entries as sent. */
	markSent(count: number): void {
		this.#sent = Math.min(this.#entries.length, this.#sent + count);
	}

	/** Forgets every sent entry whose key is at most `key`; returns how many. */
	confirm(key: number): number {
		let count = 0;
		while (count < this.#sent && this.#entries[count].key <= key)
			count++;
		if (count) {
			this.#entries.splice(0, count);
			this.#sent -= count;
		}
		return count;
	}

	/** Marks everything sent as unsent again, to be re-sent in order. */
	rewind(): void {
		this.#sent = 0;
	}

	/** The highest key handed out, or undefined when nothing is awaiting confirmation. */
	get lastSentKey(): number | undefined {
		return this.#sent ? this.#entries[this.#sent - 1].key : undefined;
	}
}
