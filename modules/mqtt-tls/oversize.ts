/*
 * OversizeFilter: stands between the socket and the SDK mqtt client's parser and takes
 * out every incoming PUBLISH that declares more than `max` bytes, before anything
 * allocates it (the SDK's client allocates a buffer of the declared size first: a
 * 300 KB message would exhaust a board's heap).
 *
 * - feed(chunk): bytes as they arrive. Every byte of every other packet goes to
 *   `forward`, in order and unchanged: the parser behind sees the stream as if the
 *   skipped packets had never been sent. A packet's fixed header (type and remaining
 *   length, 2..5 bytes) is held until complete, so nothing of a packet to skip reaches
 *   the parser, even when its header is split between two chunks.
 * - A skipped PUBLISH is reported once its last byte went by: `skipped(topic, length)`,
 *   the topic's bytes when it is at most `topicMax` long (else empty), and the
 *   remaining length it declared. Only those bytes are ever kept.
 * - feed() returns false for a remaining length longer than four bytes (malformed:
 *   the caller ends the connection, as the SDK's parser would).
 * - Uses only the language: unit-tested on Node (test/unit/oversize-filter.test.ts).
 * Limits: a skipped message still crosses the network and TLS (about 7 s for 300 KB on
 * the simulator); only memory is saved. MQTT 3.1.1's PUBLISH only: other packets the
 * broker sends a client are a few bytes.
 */

const PUBLISH = 0x30;

export interface OversizeFilterOptions {
	/** Largest remaining length (topic and payload) let through, bytes. */
	max: number;
	/** Longest topic a skipped message is reported with, bytes. */
	topicMax: number;
	forward(chunk: ArrayBuffer): void;
	skipped(topic: Uint8Array, length: number): void;
}

export class OversizeFilter {
	#head: number[] = [];	// the fixed header of the packet being framed, until complete
	#left = 0;				// bytes of the current packet's body still to come
	#skipping = false;
	#declared = 0;			// remaining length of the packet being skipped
	#read = 0;				// bytes of its body gone by
	#topicLength = 0;
	#topic: number[] = [];
	readonly #o: OversizeFilterOptions;

	constructor(options: OversizeFilterOptions) {
		this.#o = options;
	}

	feed(chunk: ArrayBuffer): boolean {
		const bytes = new Uint8Array(chunk);
		let run = 0;	// start of the body bytes of this chunk still to forward
		let position = 0;
		while (position < bytes.length) {
			if (this.#left > 0) {
				const take = Math.min(this.#left, bytes.length - position);
				if (this.#skipping)
					this.#readTopic(bytes, position, take);
				position += take;
				this.#left -= take;
				if (this.#skipping) {
					run = position;
					if (!this.#left)
						this.#finish();
				}
				continue;
			}
			if (!this.#head.length)
				this.#forward(chunk, run, position);	// the body before this header
			const byte = bytes[position++];
			run = position;
			this.#head.push(byte);
			if (this.#head.length === 1)
				continue;
			if (byte & 0x80) {
				if (this.#head.length === 5)
					return false;
				continue;
			}
			const head = this.#head;
			this.#head = [];
			let length = 0;
			for (let i = head.length - 1; i >= 1; i--)
				length = length * 128 + (head[i] & 0x7f);
			this.#left = length;
			if ((head[0] & 0xf0) === PUBLISH && length > this.#o.max) {
				this.#skipping = true;
				this.#declared = length;
				this.#read = 0;
				this.#topicLength = 0;
				this.#topic = [];
			}
			else
				this.#o.forward(Uint8Array.from(head).buffer);
		}
		this.#forward(chunk, run, position);
		return true;
	}

	#forward(chunk: ArrayBuffer, start: number, end: number): void {
		if (end > start)
			this.#o.forward(start === 0 && end === chunk.byteLength ? chunk : chunk.slice(start, end));
	}

	/** Keeps the topic length (2 bytes) and up to topicMax bytes of topic; skips the rest. */
	#readTopic(bytes: Uint8Array, at: number, take: number): void {
		const wanted = 2 + Math.min(this.#read < 2 ? this.#o.topicMax : this.#topicLength, this.#o.topicMax);
		for (let i = 0; i < take && this.#read < wanted; i++, this.#read++) {
			const byte = bytes[at + i];
			if (this.#read < 2)
				this.#topicLength = (this.#topicLength << 8) | byte;
			else if (this.#read - 2 < this.#topicLength)
				this.#topic.push(byte);
		}
	}

	#finish(): void {
		this.#skipping = false;
		const topic = this.#topicLength <= this.#o.topicMax && this.#topic.length === this.#topicLength ? Uint8Array.from(this.#topic) : new Uint8Array(0);
		this.#topic = [];
		this.#o.skipped(topic, this.#declared);
	}
}
