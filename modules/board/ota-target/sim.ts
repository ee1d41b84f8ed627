/*
 * board/ota-target (simulators): a file-backed stand-in for the OTA partitions and
 * their boot slots, so the whole confirm/rollback machine runs in mcsim.
 *
 * - Files live in the build's own directory (board/storage fileRoot(): a fresh build
 *   starts with no slots, a restart keeps them). Writes go to "<root><name>-ota.part"; complete(version) renames it to
 *   "<name>-pending.bin" and records the version as pending (traced with its path so
 *   tests can compare it byte for byte). cancel() deletes the partial file; a
 *   completed image is never touched by a cancel.
 * - Boot slots, in the files "<name>-{pending,installed,previous}.bin" and the
 *   Storage keys SLOT_KEYS (versions; "" is the image the simulator was built with):
 *   pending() is true while a pending image exists: the one that "boots" (version()
 *   is its version). confirm() moves installed to previous and pending to installed;
 *   revert() discards pending, so installed boots again.
 * - capacity is fixed at CAPACITY, the OTA slot of the common 4 MB ESP32 layout.
 * Limits: the simulator runs the code it was built with whatever slot "boots"; only
 * the version (birth, status, the downgrade check) follows the slots.
 */

import { File } from "file";
import { fileRoot } from "board/storage";
import type { BootSlots, Log, Storage, UpdateTarget } from "app/ports";

const CAPACITY = 1_572_864;	// bytes: 0x180000, one OTA slot with 4 MB flash
export const SLOT_KEYS = { pending: "slotPending", installed: "slotInstalled", previous: "slotPrevious" } as const;
type Slot = keyof typeof SLOT_KEYS;

export interface FileUpdateTarget extends UpdateTarget, BootSlots {
	/** The version of the image that boots, undefined for the one built in. */
	version(): string | undefined;
}

export function createUpdateTarget(name: string, log: Log, storage: Storage): FileUpdateTarget {
	const root = fileRoot() ?? "/tmp/";
	const partial = `${root}${name}-ota.part`;
	const slotFile = (slot: Slot) => `${name}-${slot}.bin`;
	const slotVersion = (slot: Slot) => {
		const value = storage.get(SLOT_KEYS[slot]);
		return typeof value === "string" ? value : "";
	};
	const remove = (path: string) => {
		try { File.delete(path); } catch { /* not there */ }
	};
	/** Moves slot `from` to `to` (files and versions); `to` is replaced. */
	const move = (from: Slot, to: Slot) => {
		remove(root + slotFile(to));
		if (File.exists(root + slotFile(from)))
			File.rename(root + slotFile(from), slotFile(to));
		storage.set(SLOT_KEYS[to], slotVersion(from));
	};
	let file: File | undefined;
	const discard = () => {
		file?.close();
		file = undefined;
		remove(partial);
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
		complete(version: string) {
			if (!file)
				throw new Error("no update in progress");
			file.close();
			file = undefined;
			remove(root + slotFile("pending"));
			File.rename(partial, slotFile("pending"));
			storage.set(SLOT_KEYS.pending, version);
			log(`ota: image recorded at ${root}${slotFile("pending")} (pending ${version})`);
		},
		cancel: discard,
		pending: () => slotVersion("pending") !== "",
		confirm() {
			move("installed", "previous");
			move("pending", "installed");
			storage.set(SLOT_KEYS.pending, "");
			log(`ota: slots: installed ${slotVersion("installed")}, previous ${slotVersion("previous") || "(built-in)"}`);
		},
		revert() {
			remove(root + slotFile("pending"));
			storage.set(SLOT_KEYS.pending, "");
			log(`ota: slots: pending discarded, installed ${slotVersion("installed") || "(built-in)"} boots`);
		},
		version: () => slotVersion("pending") || slotVersion("installed") || undefined,
	};
}
