/*
 * NodeUpdateTarget: the core's UpdateTarget and BootSlots in memory or in files,
 * standing in for the OTA partitions and ESP-IDF's app rollback.
 *
 * - begin(size) refuses a size of 0 or over `capacity`, and a begin while another
 *   update is open; write() refuses anything past the announced size; complete()
 *   refuses an image shorter than announced. Each refusal throws, as the SDK's OTA
 *   module does.
 * - Nothing written is bootable before complete(version): writes go to a staging
 *   buffer (file-backed: `<path>.part`); complete() makes them the *pending* image
 *   (file-backed: renamed to `<path>.pending`, atomically). cancel() discards the
 *   staging only; it is harmless when nothing is open.
 * - Slots: pending() while a pending image exists (it is what boots, `version()` is
 *   its version); confirm() moves installed to previous and pending to installed
 *   (file-backed: `<path>` and `<path>.previous`); revert() discards the pending one.
 *   File-backed, the versions are kept in `<path>.slots.json`, so a new process finds
 *   the slots where the last one left them.
 * - Counters (begins, writes, completions, cancels) let tests check that a failed
 *   update left the target untouched.
 * Limits: keeps whole images in memory (images here are at most a few MB).
 */

import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { BootSlots, UpdateTarget } from "../modules/app/ports";

/** 1 MiB: the app partition size of ESP-IDF's two-OTA partition table. */
export const DEFAULT_CAPACITY = 0x100000;

export interface NodeUpdateTargetOptions {
	capacity?: number;
	/** Where the installed image is kept (with .pending, .previous, .slots.json); memory only when absent. */
	path?: string;
}

type Slot = "pending" | "installed" | "previous";
interface Image { version: string; bytes: Buffer }

export class NodeUpdateTarget implements UpdateTarget, BootSlots {
	readonly capacity: number;
	begins = 0;
	writes = 0;
	completions = 0;
	cancels = 0;
	#staging: Buffer | undefined;
	#written = 0;
	readonly #slots: Partial<Record<Slot, Image>> = {};
	readonly #path: string | undefined;

	/** Every file a target at `path` may keep: the installed image, its slots and staging. */
	static files(path: string): string[] {
		return [path, ...(["part", "pending", "previous", "slots.json"] as const).map(kind => `${path}.${kind}`)];
	}

	constructor(options: NodeUpdateTargetOptions = {}) {
		this.capacity = options.capacity ?? DEFAULT_CAPACITY;
		this.#path = options.path;
		if (this.#path)
			this.#load();
	}

	/** The image that boots next if an update completed (pending, else installed), else undefined. */
	get bootImage(): Buffer | undefined { return (this.#slots.pending ?? this.#slots.installed)?.bytes; }
	/** True while an update is open (begun, neither completed nor cancelled). */
	get open(): boolean { return this.#staging !== undefined; }
	/** The versions in each slot (undefined: empty; the previous of a first install is the built-in one). */
	get slots(): Partial<Record<Slot, string>> {
		return Object.fromEntries(Object.entries(this.#slots).map(([slot, image]) => [slot, image.version]));
	}

	begin(size: number): void {
		if (this.#staging)
			throw new Error("an update is already open");
		if (!Number.isInteger(size) || size <= 0 || size > this.capacity)
			throw new Error(`image size ${size} does not fit the ${this.capacity}-byte partition`);
		this.begins++;
		this.#staging = Buffer.alloc(size);
		this.#written = 0;
		if (this.#path)
			writeFileSync(this.#file("part"), "");
	}

	write(chunk: ArrayBuffer): void {
		const staging = this.#staging;
		if (!staging)
			throw new Error("write without begin");
		if (this.#written + chunk.byteLength > staging.length)
			throw new Error(`write past the announced ${staging.length} bytes`);
		const bytes = new Uint8Array(chunk);
		staging.set(bytes, this.#written);
		this.#written += bytes.length;
		this.writes++;
		if (this.#path)
			appendFileSync(this.#file("part"), bytes);
	}

	complete(version: string): void {
		const staging = this.#staging;
		if (!staging)
			throw new Error("complete without begin");
		if (this.#written !== staging.length)
			throw new Error(`image incomplete: ${this.#written} of ${staging.length} bytes`);
		if (this.#path)
			renameSync(this.#file("part"), this.#file("pending"));
		this.#slots.pending = { version, bytes: staging };
		this.#staging = undefined;
		this.completions++;
		this.#save();
	}

	cancel(): void {
		this.cancels++;
		this.#staging = undefined;
		this.#written = 0;
		if (this.#path)
			rmSync(this.#file("part"), { force: true });
	}

	pending(): boolean { return this.#slots.pending !== undefined; }

	confirm(): void {
		const pending = this.#slots.pending;
		if (!pending)
			throw new Error("no pending image to confirm");
		if (this.#path) {
			if (existsSync(this.#file("installed")))
				renameSync(this.#file("installed"), this.#file("previous"));
			renameSync(this.#file("pending"), this.#file("installed"));
		}
		if (this.#slots.installed)
			this.#slots.previous = this.#slots.installed;
		this.#slots.installed = pending;
		delete this.#slots.pending;
		this.#save();
	}

	revert(): void {
		if (this.#path)
			rmSync(this.#file("pending"), { force: true });
		delete this.#slots.pending;
		this.#save();
	}

	/** The version of the image that boots, undefined for the one the emulator was started with. */
	version(): string | undefined { return this.#slots.pending?.version ?? this.#slots.installed?.version; }

	#file(kind: Slot | "part"): string {
		return kind === "installed" ? this.#path! : `${this.#path}.${kind}`;
	}

	#save(): void {
		if (this.#path)
			writeFileSync(`${this.#path}.slots.json`, JSON.stringify(this.slots) + "\n");
	}

	#load(): void {
		let versions: Partial<Record<Slot, unknown>> = {};
		try { versions = JSON.parse(readFileSync(`${this.#path}.slots.json`, "utf8")); } catch { /* no slots yet */ }
		for (const slot of ["pending", "installed", "previous"] as const) {
			const version = versions[slot];
			if (typeof version === "string" && existsSync(this.#file(slot)))
				this.#slots[slot] = { version, bytes: readFileSync(this.#file(slot)) };
		}
	}
}
