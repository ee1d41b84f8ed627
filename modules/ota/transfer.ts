/*
 * ota/transfer: the core's Fetcher and Hash on XS.
 *
 * - get() streams an https: URL with the SDK's HTTP client over securesocket, trusting
 *   only the bundled roots (the same resources as MQTT) and checking the server name;
 *   TLS 1.2 minimum. Chunks are handed on as they arrive, never collected.
 * - A connection that ends before Content-Length bytes is an error (the SDK client
 *   reports it as one); bytes waiting after Content-Length are handed on (the core
 *   fails them as E_LENGTH); exactly one of onDone/onError ends a download, and nothing
 *   follows cancel().
 * Limits: surplus bytes that arrive after the client already finished the body are
 * not seen (the body is complete; its hash decides).
 * - createHash() is SHA-256 from the SDK's `crypt` Digest.
 *   GET only, no redirects (an update URL must point at the image itself).
 */

import { Request } from "http";
import { TLS_1_2, lingeringSecureSocket } from "tls-socket";
import type { Der } from "credentials";
import { Digest } from "crypt";
import type { Download, DownloadEvents, Fetcher, Hash } from "app/ports";

const URL_PATTERN = () => /^https:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s#]*)?$/;	// made on each use: a preloaded RegExp crashes XS (README, notes on changing the firmware)

export function createFetcher(roots: Der[]): Fetcher {
	const Socket = lingeringSecureSocket(roots);	// the same socket class as MQTT (see tls-socket)
	return {
		get(url: string, events: DownloadEvents): Download {
			const parts = URL_PATTERN().exec(url);
			if (!parts)
				throw new Error(`not an https URL: ${url}`);
			let status = 0;
			let length: number | undefined;
			let received = 0;	// body bytes handed on
			let ended = false;
			const end = (finish: () => void) => {
				if (ended)
					return;
				ended = true;
				finish();
			};
			const options = {
				host: parts[1],
				port: parts[2] ? Number(parts[2]) : 443,
				path: parts[3] || "/",
				headers: ["Connection", "close"],
				Socket,
				secure: { protocolVersion: TLS_1_2 },
			};
			const request = new Request(options as never);
			request.callback = (message, value, etc) => {
				if (ended)
					return;
				if (message === Request.status)
					status = Number(value);
				else if (message === Request.header) {
					if (String(value).toLowerCase() === "content-length")
						length = Number(etc);
				}
				else if (message === Request.headersComplete)
					events.onResponse(status, Number.isFinite(length) ? length : undefined);
				else if (message === Request.responseFragment) {
					const chunk = request.read(ArrayBuffer, Number(value));
					if (chunk) {
						received += chunk.byteLength;
						events.onData(chunk);
					}
					// The SDK client stops at Content-Length and would report the rest as a
					// clean end: bytes still waiting after the whole body are handed on, so
					// the core fails them (E_LENGTH) instead of installing a silent mismatch.
					if (!ended && length !== undefined && received >= length && request.read() > 0) {
						const surplus = request.read(ArrayBuffer);
						if (surplus)
							events.onData(surplus);
					}
				}
				else if (message === Request.responseComplete)
					end(() => events.onDone());
				else if (message === Request.error)
					end(() => events.onError(status ? `connection lost after status ${status}` : "connection or TLS handshake failed"));
			};
			return {
				cancel() {
					ended = true;
					try { request.close(); } catch { /* already closed */ }
				},
			};
		},
	};
}

export function createHash(): Hash {
	const digest = new Digest("SHA256");
	return {
		update: chunk => digest.write(chunk),
		hex() {
			const bytes = new Uint8Array(digest.close());
			let hex = "";
			for (const byte of bytes)
				hex += (byte < 16 ? "0" : "") + byte.toString(16);
			return hex;
		},
	};
}
