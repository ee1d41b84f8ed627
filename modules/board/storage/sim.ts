/*
 * board/storage (Linux simulator): each simulator build is a device of its own.
 *
 * - fileRoot() is "<directory of the build's mc.so>/state/" (the library mcsim was
 *   started with, see build-lin): the store and the update target's files live there,
 *   so two builds never see each other's state and a build's state goes with it.
 * - A fresh build is a fresh device: the directory records the library's stamp
 *   (modification time, inode, size); when mcconfig linked the library again, the
 *   directory is emptied before use ("state: fresh device ..." on the console). A
 *   restart of the same build keeps everything (boot counter, boot slots, settings).
 * - createStorage() keeps the key/value pairs in "storage.json" there, read once and
 *   written whole on every change (to a temporary file, then renamed over the old one,
 *   so a simulator stopped mid-write keeps the previous state). A failed write is
 *   traced, not thrown, as on a board.
 * Limits: one library started twice at once is one device twice (they share the
 * directory). mcsim started without a library path (its open dialog) falls back to
 * FALLBACK_ROOT, shared by every such simulator, and says so.
 */

import config from "mc/config";
import { Directory, File, Iterator } from "file";
import simulatorBuild from "board/storage/build-lin";
import type { Storage } from "app/ports";

const STATE = "state/";
const STAMP = "build.stamp";
const VALUES = "storage.json";
const FALLBACK_ROOT = `${String((config as { file?: { root?: string } }).file?.root ?? "/tmp/")}mcsim-state/`;

function readText(path: string): string | undefined {
	if (!File.exists(path))
		return undefined;
	const file = new File(path);
	try {
		return file.length ? file.read(String) as string : "";
	}
	finally {
		file.close();
	}
}

/** Replaces `path` with `text`: written beside it, then renamed over it. */
function writeText(path: string, text: string): void {
	const temporary = `${path}.new`;
	try { File.delete(temporary); } catch { /* not there */ }
	const file = new File(temporary, true);
	try {
		file.write(text);
	}
	finally {
		file.close();
	}
	File.rename(temporary, path.slice(path.lastIndexOf("/") + 1));
}

/** This build's state directory, emptied first when the library is a new build. */
export function fileRoot(): string {
	const build = simulatorBuild();
	if (!build) {
		trace(`state: mcsim names no library; using the shared ${FALLBACK_ROOT}\n`);
		Directory.create(FALLBACK_ROOT);
		return FALLBACK_ROOT;
	}
	const [library, stamp] = build.split("\n");
	const root = library.slice(0, library.lastIndexOf("/") + 1) + STATE;
	Directory.create(root);
	if (readText(root + STAMP) !== stamp) {
		for (const entry of new Iterator(root) as unknown as Iterable<{ name: string; length?: number }>)
			if (entry.length !== undefined)
				File.delete(root + entry.name);
		writeText(root + STAMP, stamp);
		trace(`state: fresh device in ${root}\n`);
	}
	return root;
}

export function createStorage(): Storage {
	const path = fileRoot() + VALUES;
	let values: Record<string, number | string> = {};
	try {
		const saved: unknown = JSON.parse(readText(path) ?? "{}");
		if (saved && typeof saved === "object")
			values = saved as Record<string, number | string>;
	}
	catch (error) {
		trace(`storage: ${path} is unreadable (${error}); starting empty\n`);
	}
	return {
		get(key) {
			const value = values[key];
			return typeof value === "number" || typeof value === "string" ? value : undefined;
		},
		set(key, value) {
			values[key] = value;
			try {
				writeText(path, JSON.stringify(values));
			}
			catch (error) {
				trace(`storage: cannot keep ${key}: ${error}\n`);
			}
		},
	};
}
