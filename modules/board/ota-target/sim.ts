/*
 * board/ota-target (simulators): a file-backed stand-in for the OTA partition.
 *
 * - Writes go to "<root><name>-ota.part"; complete() renames it to "<name>-ota.bin",
 *   the image that would boot, and traces its path so tests can compare it byte for
 *   byte. cancel() deletes the partial file; a completed image is never touched.
 * - capacity is fixed at CAPACITY, the OTA slot of the common 4 MB ESP32 layout.
 */

import config from "mc/config";
import { File } from "file";
import type { Log, UpdateTarget } from "app/ports";

const CAPACITY = 1_572_864;	// bytes: 0x180000, one OTA slot with 4 MB flash

export function createUpdateTarget(name: string, log: Log = () => {}): UpdateTarget {
	const root = String((config as { file?: { root?: string } }).file?.root ?? "/tmp/");
	const partial = `${root}${name}-ota.part`;
	const image = `${name}-ota.bin`;
	let file: File | undefined;
	const discard = () => {
		file?.close();
		file = undefined;
		try { File.delete(partial); } catch { /* not there */ }
	};
	return {
		capacity: CAPACITY,
		begin(size: number) {
			if (size > CAPACITY)
				throw new Error(`image of ${size} bytes exceeds the ${CAPACITY}-byte OTA slot`);
			discard();
			file = new File(partial, true);
		},
		write(chunk: ArrayBuffer) {
			if (!file)
				throw new Error("no update in progress");
			file.write(chunk);
		},
		complete() {
			if (!file)
				throw new Error("no update in progress");
			file.close();
			file = undefined;
			try { File.delete(root + image); } catch { /* first image */ }
			File.rename(partial, image);
			log(`ota: image recorded at ${root}${image}`);
		},
		cancel: discard,
	};
}
