/*
 * Node adapters for the OTA download: Fetcher over node:https and Hash over node:crypto.
 *
 * - NodeFetcher trusts only the given roots (the bundled DER files, converted to PEM,
 *   as NodeTransport does) and offers what the board offers (device-tls.ts: TLS 1.2,
 *   RSA key exchange, the URL's host checked against the SAN only), no agent (one
 *   fresh connection per download, nothing pooled).
 * - Download contract (ports.ts): events come from the event loop, never inside get();
 *   onResponse once with the status and Content-Length (undefined when absent or not a
 *   number), then onData per chunk as an ArrayBuffer of its own, then exactly one of
 *   onDone (the body arrived complete) or onError (TLS refusal, refused connection,
 *   body cut short: `detail` in words, with Node's error code). cancel() destroys the
 *   request; no event follows it.
 * - NodeHash: incremental SHA-256, lower-case hex.
 * - Bytes after the announced Content-Length are handed on with onData before the
 *   error (the core fails them as E_LENGTH), as the board's fetcher does.
 * Limits: no redirects (a 3xx is reported as its status), no proxy. Surplus bytes that
 * arrive in a later packet than the body's end may go unnoticed (the body is complete
 * by then; its hash decides).
 */

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import { isIP } from "node:net";
import type { Download, DownloadEvents, Fetcher, Hash } from "../modules/app/ports";
import { describeError } from "./errors";
import { certificatePem } from "./transport";
import { deviceTls } from "./device-tls";

export interface NodeFetcherOptions {
	/** Paths of the trusted root CAs, DER or PEM. */
	caFiles: string[];
}

/** Node's HTTP parser errors carry the packet it was parsing and how far it got. */
type ParserError = Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number };

const arrayBuffer = (bytes: Buffer): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export class NodeFetcher implements Fetcher {
	readonly #ca: string[];

	constructor(options: NodeFetcherOptions) {
		this.#ca = options.caFiles.map(certificatePem);
	}

	get(url: string, events: DownloadEvents): Download {
		let ended = false;
		const end = (report: () => void) => {
			if (ended)
				return;
			ended = true;
			report();
		};
		let parsed: URL;
		try {
			parsed = new URL(url);
			if (parsed.protocol !== "https:")
				throw new Error(`${parsed.protocol} is not https:`);
		}
		catch (error) {
			setImmediate(() => end(() => events.onError(`bad url: ${(error as Error).message}`)));
			return { cancel: () => { ended = true; } };
		}
		const host = parsed.hostname;
		let announced: number | undefined;	// Content-Length
		let delivered = 0;					// body bytes handed on
		const req = request({
			host,
			port: parsed.port ? Number(parsed.port) : 443,
			path: parsed.pathname + parsed.search,
			method: "GET",
			ca: this.#ca,
			// SNI must not carry an IP address; the certificate's IP SAN is still checked against `host`.
			servername: isIP(host) ? undefined : host,
			rejectUnauthorized: true,
			...deviceTls,
			agent: false,
			headers: { "accept-encoding": "identity" },
		});
		req.on("response", (response: IncomingMessage) => {
			if (ended)
				return;
			const header = response.headers["content-length"];
			const length = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
			announced = length;
			events.onResponse(response.statusCode ?? 0, length);
			response.on("data", (chunk: Buffer) => {
				if (!ended) {
					delivered += chunk.byteLength;
					events.onData(arrayBuffer(chunk));
				}
			});
			response.on("end", () => end(() => response.complete ? events.onDone() : events.onError("connection closed before the body was complete")));
			response.on("error", error => end(() => events.onError(describeError(error))));
			response.on("close", () => end(() => response.complete ? events.onDone() : events.onError("connection closed before the body was complete")));
		});
		req.on("error", (error: ParserError) => {
			// Bytes after a complete body: Node's parser stops at Content-Length and fails on
			// the rest. Hand them on as the board's fetcher does; the core refuses them (E_LENGTH).
			const surplus = delivered === announced && error.rawPacket && error.bytesParsed !== undefined
				? error.rawPacket.subarray(Math.max(0, error.bytesParsed - 1)) : undefined;
			if (surplus?.byteLength && !ended)
				events.onData(arrayBuffer(surplus));
			end(() => events.onError(describeError(error)));
		});
		req.end();
		return {
			cancel: () => {
				ended = true;
				req.destroy();
			},
		};
	}
}

export class NodeHash implements Hash {
	readonly #hash = createHash("sha256");

	update(chunk: ArrayBuffer): void {
		this.#hash.update(new Uint8Array(chunk));
	}

	hex(): string {
		return this.#hash.digest("hex");
	}
}

export const createNodeHash = (): Hash => new NodeHash();
