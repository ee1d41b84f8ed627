/*
 * Fakes for the OTA ports: a fetcher whose downloads the test drives event by event,
 * a recording SHA-256, and an update target that logs every call.
 *
 * - Like the other fakes nothing happens by itself: a FakeDownload's events fire only
 *   when the test calls respond()/data()/done()/error(); after cancel() they throw, so
 *   a test cannot pretend the fetcher kept talking.
 * - FakeHash is real SHA-256 (node:crypto): the state machine is tested against the
 *   digest it would see on a device.
 * - FakeTarget records calls as strings ("begin 100", "write 10", "complete",
 *   "cancel") and the completed image; `throwOn` makes one kind of call throw.
 */

import { createHash } from "node:crypto";
import type { Download, DownloadEvents, Fetcher, Hash, UpdateTarget } from "../../../modules/app/ports";

export class FakeDownload implements Download {
	cancelled = false;

	constructor(readonly url: string, readonly events: DownloadEvents) {}

	cancel(): void { this.cancelled = true; }

	respond(status: number, length: number | undefined): void { this.#live().onResponse(status, length); }
	data(bytes: Uint8Array): void {
		this.#live().onData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
	}
	/** Sends `bytes` in chunks of `size`. */
	stream(bytes: Uint8Array, size: number): void {
		for (let at = 0; at < bytes.length; at += size)
			this.data(bytes.subarray(at, at + size));
	}
	done(): void { this.#live().onDone(); }
	error(detail: string): void { this.#live().onError(detail); }

	#live(): DownloadEvents {
		if (this.cancelled)
			throw new Error("event after cancel()");
		return this.events;
	}
}

export class FakeFetcher implements Fetcher {
	readonly downloads: FakeDownload[] = [];
	/** When set, get() throws it (as an adapter refusing a URL would). */
	throwOnGet: Error | undefined;

	get(url: string, events: DownloadEvents): Download {
		if (this.throwOnGet)
			throw this.throwOnGet;
		const download = new FakeDownload(url, events);
		this.downloads.push(download);
		return download;
	}

	get last(): FakeDownload {
		const download = this.downloads.at(-1);
		if (!download)
			throw new Error("no download was started");
		return download;
	}
}

export class FakeHash implements Hash {
	readonly #hash = createHash("sha256");
	bytes = 0;

	update(chunk: ArrayBuffer): void {
		this.bytes += chunk.byteLength;
		this.#hash.update(new Uint8Array(chunk));
	}

	hex(): string { return this.#hash.digest("hex"); }
}

export type TargetCall = "begin" | "write" | "complete" | "cancel";

export class FakeTarget implements UpdateTarget {
	readonly calls: string[] = [];
	readonly throwOn = new Set<TargetCall>();
	#staging: Uint8Array[] = [];
	/** The image complete() made bootable, if any. */
	bootImage: Uint8Array | undefined;

	constructor(readonly capacity = 1 << 20) {}

	begin(size: number): void {
		this.#call("begin", `begin ${size}`);
		this.#staging = [];
	}

	write(chunk: ArrayBuffer): void {
		this.#call("write", `write ${chunk.byteLength}`);
		this.#staging.push(new Uint8Array(chunk.slice(0)));
	}

	complete(): void {
		this.#call("complete", "complete");
		this.bootImage = new Uint8Array(Buffer.concat(this.#staging));
	}

	cancel(): void {
		this.#call("cancel", "cancel");
		this.#staging = [];
	}

	/** The calls of one kind, e.g. count("cancel"). */
	count(kind: TargetCall): number {
		return this.calls.filter(call => call.split(" ")[0] === kind).length;
	}

	#call(kind: TargetCall, text: string): void {
		this.calls.push(text);
		if (this.throwOn.has(kind))
			throw new Error(`flash ${kind} failed`);
	}
}

/** `size` bytes of a repeatable pattern and its lower-case SHA-256. */
export function image(size: number, seed = 7): { bytes: Uint8Array; sha256: string } {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++)
		bytes[i] = (i * 31 + seed) & 0xff;
	return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}
