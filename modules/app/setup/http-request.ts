/*
 * RequestReader: one HTTP/1.1 request read from a socket's bytes, with setup's limits.
 *
 * - feed() takes the bytes as they arrive and says `more` until the request is whole
 *   (head up to the blank line, then Content-Length bytes of body), or refuses it:
 *   413 as soon as the request is known to be above MAX_REQUEST bytes (a Content-Length
 *   that says so, or a head that never ends), 400 for a malformed head or a body sent
 *   chunked. The caller answers the refusal and closes: nothing past it is read.
 * - Header names are lower-cased; a repeated Content-Length is refused. The head is
 *   read as Latin-1 (HTTP's header text); the body stays bytes for the caller to decode.
 * - Memory: at most MAX_REQUEST bytes are held per connection.
 * - `Expect: 100-continue` (curl sends it with a body above 1 KB): once the head is
 *   accepted, feed() says `continue` and the caller writes CONTINUE before reading on.
 * Limits: no keep-alive, no pipelining.
 */

export const MAX_REQUEST = 16_384;	// bytes, head and body: the contract's 16 KB

export interface HttpRequest {
	method: string;
	path: string;
	headers: Record<string, string>;
	body: Uint8Array;
}

export type ReadResult =
	| { kind: "more" }
	| { kind: "continue" }
	| { kind: "request"; request: HttpRequest }
	| { kind: "refused"; status: 400 | 413; reason: string };

const MORE: ReadResult = Object.freeze({ kind: "more" });
const CONTINUE_NOW: ReadResult = Object.freeze({ kind: "continue" });
export const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
// Made on each use: a RegExp built while preloading crashes XS (test/unit/preloaded-regexp.test.ts).
const REQUEST_LINE = (): RegExp => /^([A-Z]{1,10}) (\/[\x21-\x7e]*) HTTP\/1\.[01]$/;

export class RequestReader {
	#bytes = new Uint8Array(1_024);
	#length = 0;
	#head: { method: string; path: string; headers: Record<string, string>; end: number; total: number } | undefined;
	#done = false;

	feed(chunk: Uint8Array): ReadResult {
		if (this.#done)
			return MORE;
		if (this.#length + chunk.length > MAX_REQUEST)
			return this.#refuse(413, `request larger than ${MAX_REQUEST} bytes`);
		this.#append(chunk);
		if (!this.#head) {
			const end = this.#headEnd(Math.max(0, this.#length - chunk.length - 3));
			if (end < 0)
				return MORE;
			const head = this.#parseHead(end);
			if (typeof head === "string")
				return this.#refuse(400, head);
			this.#head = head;
			if (head.total > MAX_REQUEST)
				return this.#refuse(413, `request larger than ${MAX_REQUEST} bytes`);
			if (this.#length < head.total && head.headers.expect?.toLowerCase() === "100-continue")
				return CONTINUE_NOW;
		}
		const head = this.#head;
		if (this.#length < head.total)
			return MORE;
		this.#done = true;
		const request = { method: head.method, path: head.path, headers: head.headers, body: this.#bytes.slice(head.end, head.total) };
		return { kind: "request", request };
	}

	#refuse(status: 400 | 413, reason: string): ReadResult {
		this.#done = true;
		this.#bytes = new Uint8Array(0);
		return { kind: "refused", status, reason };
	}

	#append(chunk: Uint8Array): void {
		if (this.#length + chunk.length > this.#bytes.length) {
			const grown = new Uint8Array(Math.min(MAX_REQUEST, Math.max(this.#bytes.length * 2, this.#length + chunk.length)));
			grown.set(this.#bytes.subarray(0, this.#length));
			this.#bytes = grown;
		}
		this.#bytes.set(chunk, this.#length);
		this.#length += chunk.length;
	}

	/** Index just past the head's blank line (CRLF CRLF), searching from `from`, or -1. */
	#headEnd(from: number): number {
		const bytes = this.#bytes;
		for (let i = from; i + 3 < this.#length; i++)
			if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10)
				return i + 4;
		return -1;
	}

	#parseHead(end: number): { method: string; path: string; headers: Record<string, string>; end: number; total: number } | string {
		let text = "";
		for (let i = 0; i < end - 4; i++)
			text += String.fromCharCode(this.#bytes[i]);
		const lines = text.split("\r\n");
		const first = REQUEST_LINE().exec(lines[0]);
		if (!first)
			return "malformed request line";
		const headers: Record<string, string> = {};
		for (const line of lines.slice(1)) {
			const colon = line.indexOf(":");
			if (colon <= 0)
				return "malformed header line";
			const name = line.slice(0, colon).trim().toLowerCase();
			if (name === "content-length" && Object.hasOwn(headers, name))
				return "Content-Length given twice";
			headers[name] = line.slice(colon + 1).trim();
		}
		if (headers["transfer-encoding"] !== undefined)
			return "a chunked body is not accepted: send Content-Length";
		const length = headers["content-length"] ?? "0";
		if (!/^\d{1,9}$/.test(length))
			return "malformed Content-Length";
		return { method: first[1], path: first[2], headers, end, total: end + Number(length) };
	}
}
