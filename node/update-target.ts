/*
 * NodeUpdateTarget: the core's UpdateTarget in memory or in a file, standing in for
 * the inactive OTA partition, and recording what would boot.
 *
 * - begin(size) refuses a size of 0 or over `capacity`, and a begin while another
 *   update is open; write() refuses anything past the announced size; complete()
 *   refuses an image shorter than announced. Each refusal throws, as the SDK's OTA
 *   module does.
 * - Nothing written is bootable before complete(): writes go to a staging buffer (and,
 *   file-backed, to `<path>.part`); complete() then makes them `bootImage` (file-backed:
 *   renames the part file over `path`, atomically). cancel() discards the staging and
 *   leaves `bootImage` as it was; it is harmless when nothing is open.
 * - Counters (begins, writes, completions, cancels) let tests check that a failed
 *   update left the target untouched.
 * Limits: keeps the whole image in memory (images here are at most a few MB).
 */

import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { UpdateTarget } from "../modules/app/ports";

/** 1 MiB: the app partition size of ESP-IDF's two-OTA partition table. */
export const DEFAULT_CAPACITY = 0x100000;

export interface NodeUpdateTargetOptions {
	capacity?: number;
	/** Where the completed image is kept; memory only when absent. */
	path?: string;
}

export class NodeUpdateTarget implements UpdateTarget {
	readonly capacity: number;
	begins = 0;
	writes = 0;
	completions = 0;
	cancels = 0;
	#staging: Buffer | undefined;
	#written = 0;
	#boot: Buffer | undefined;
	readonly #path: string | undefined;

	constructor(options: NodeUpdateTargetOptions = {}) {
		this.capacity = options.capacity ?? DEFAULT_CAPACITY;
		this.#path = options.path;
		if (this.#path && existsSync(this.#path))
			this.#boot = readFileSync(this.#path);
	}

	/** The image that boots next if an update completed (file-backed: also from an earlier run), else undefined. */
	get bootImage(): Buffer | undefined { return this.#boot; }
	/** True while an update is open (begun, neither completed nor cancelled). */
	get open(): boolean { return this.#staging !== undefined; }

	begin(size: number): void {
		if (this.#staging)
			throw new Error("an update is already open");
		if (!Number.isInteger(size) || size <= 0 || size > this.capacity)
			throw new Error(`image size ${size} does not fit the ${this.capacity}-byte partition`);
		this.begins++;
		this.#staging = Buffer.alloc(size);
		this.#written = 0;
		if (this.#path)
			writeFileSync(this.#part, "");
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
			appendFileSync(this.#part, bytes);
	}

	complete(): void {
		const staging = this.#staging;
		if (!staging)
			throw new Error("complete without begin");
		if (this.#written !== staging.length)
			throw new Error(`image incomplete: ${this.#written} of ${staging.length} bytes`);
		if (this.#path)
			renameSync(this.#part, this.#path);
		this.#boot = staging;
		this.#staging = undefined;
		this.completions++;
	}

	cancel(): void {
		this.cancels++;
		this.#staging = undefined;
		this.#written = 0;
		if (this.#path)
			rmSync(this.#part, { force: true });
	}

	get #part(): string { return `${this.#path}.part`; }
}
