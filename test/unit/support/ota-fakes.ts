/*
 * Fakes for the OTA ports: a fetcher whose downloads the test drives event by event,
 * a recording SHA-256, and an update target that logs every call.
 *
 * - Like the other fakes nothing happens by itself: a FakeDownload's events fire only
 *   when the test calls respond()/data()/done()/error(); after cancel() they throw, so
 *   a test cannot pretend the fetcher kept talking.
 * - FakeHash is real SHA-256 (node:crypto): the state machine is tested against the
 *   digest it would see on a device.
 * - FakeTarget records calls as strings ("begin 100", "write 10", "complete 1.1.0",
 *   "cancel") and the completed image; `throwOn` makes one kind of call throw.
 * - FakeSlots are boot slots the test sets pending and that record confirm/revert.
 * - TEST_SIGNER is a fresh P-256 key pair per test run (no key is committed): its
 *   SubjectPublicKeyInfo DER for the device and signing for the requests.
 */

import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { BootSlots, Download, DownloadEvents, Fetcher, Hash, UpdateTarget } from "../../../modules/app/ports";
import type { SignedFields } from "../../../modules/app/updates/signature";
import { signUpdate } from "../../../tools/ota-sign";

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

	complete(version: string): void {
		this.#call("complete", `complete ${version}`);
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

export class FakeSlots implements BootSlots {
	readonly calls: string[] = [];
	throwOn: "confirm" | "revert" | undefined;

	constructor(public isPending = false) {}

	pending(): boolean { return this.isPending; }
	confirm(): void {
		this.calls.push("confirm");
		if (this.throwOn === "confirm")
			throw new Error("flash confirm failed");
		this.isPending = false;
	}
	revert(): void {
		this.calls.push("revert");
		if (this.throwOn === "revert")
			throw new Error("flash revert failed");
		this.isPending = false;
	}
}

export class Signer {
	readonly privateKey: KeyObject;
	readonly spki: Uint8Array;

	constructor(curve = "P-256") {
		const pair = generateKeyPairSync("ec", { namedCurve: curve });
		this.privateKey = pair.privateKey;
		this.spki = new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" }));
	}

	sign(fields: SignedFields): string { return signUpdate(this.privateKey, fields); }
}

export const TEST_SIGNER = new Signer();
