/*
 * Node adapters for the OTA download: Fetcher over node:https and Hash over node:crypto.
 *
 * - NodeFetcher trusts only the given CA (the bundled DER, converted to PEM, as
 *   NodeTransport does), checks the server name against the URL's host, TLS 1.2
 *   minimum, no agent (one fresh connection per download, nothing pooled).
 * - Download contract (ports.ts): events come from the event loop, never inside get();
 *   onResponse once with the status and Content-Length (undefined when absent or not a
 *   number), then onData per chunk as an ArrayBuffer of its own, then exactly one of
 *   onDone (the body arrived complete) or onError (TLS refusal, refused connection,
 *   body cut short: `detail` in words, with Node's error code). cancel() destroys the
 *   request; no event follows it.
 * - NodeHash: incremental SHA-256, lower-case hex.
 * Limits: no redirects (a 3xx is reported as its status), no proxy.
 */

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import { isIP } from "node:net";
import type { Download, DownloadEvents, Fetcher, Hash } from "../modules/app/ports";
import { describeError } from "./errors";
import { certificatePem } from "./transport";

export interface NodeFetcherOptions {
	/** Path of the trusted root CA, DER or PEM. */
	caFile: string;
}

export class NodeFetcher implements Fetcher {
	readonly #ca: string;

	constructor(options: NodeFetcherOptions) {
		this.#ca = certificatePem(options.caFile);
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
		const req = request({
			host,
			port: parsed.port ? Number(parsed.port) : 443,
			path: parsed.pathname + parsed.search,
			method: "GET",
			ca: this.#ca,
			// SNI must not carry an IP address; the certificate's IP SAN is still checked against `host`.
			servername: isIP(host) ? undefined : host,
			rejectUnauthorized: true,
			minVersion: "TLSv1.2",
			agent: false,
			headers: { "accept-encoding": "identity" },
		});
		req.on("response", (response: IncomingMessage) => {
			if (ended)
				return;
			const header = response.headers["content-length"];
			const length = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
			events.onResponse(response.statusCode ?? 0, length);
			response.on("data", (chunk: Buffer) => {
				if (!ended)
					events.onData(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer);
			});
			response.on("end", () => end(() => response.complete ? events.onDone() : events.onError("connection closed before the body was complete")));
			response.on("error", error => end(() => events.onError(describeError(error))));
			response.on("close", () => end(() => response.complete ? events.onDone() : events.onError("connection closed before the body was complete")));
		});
		req.on("error", error => end(() => events.onError(describeError(error))));
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
