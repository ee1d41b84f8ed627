/*
 * board/setup-access (simulators): setup mode on the host computer.
 *
 * - Blobs are files `setup-<name>` in the state folder, the file module's root
 *   (config.file.root: each build gets its own from tools/sdk.ts); a write goes to a
 *   temporary file renamed over the old one, so a cut leaves the old blob whole.
 * - The owner asks locally by creating a file in the state folder before the device
 *   starts: `setup-open` opens setup mode, `setup-reset` is a factory reset (stored
 *   settings and setup code forgotten). The file is removed as it is honoured.
 * - No access point: the setup server is reached on loopback, and only loopback peers
 *   are answered (the SDK's lin listener binds every interface).
 */

import { File } from "file";
import config from "mc/config";
import type { Log } from "app/ports";
import type { BlobStorage } from "app/setup/settings-store";
import type { AccessOptions, LocalRequestOptions } from "board/setup-access";

const root = (): string => (config as unknown as { file: { root: string } }).file.root;
const path = (name: string) => `${root()}setup-${name}`;

export const loopbackOnly = true;

export function createBlobs(log: Log): BlobStorage {
	return {
		read(name) {
			try {
				if (!File.exists(path(name)))
					return undefined;
				const file = new File(path(name));
				const text = file.read(String) as string;
				file.close();
				return text;
			}
			catch (error) {
				log(`setup: cannot read ${path(name)}: ${error}`);
				return undefined;
			}
		},
		write(name, text) {
			const temporary = path(name + ".new");
			File.delete(temporary);
			const file = new File(temporary, true);
			file.write(text);
			file.close();
			if (!File.rename(temporary, path(name)))
				throw new Error(`cannot rename ${temporary}`);
		},
		remove(name) {
			File.delete(path(name));
		},
	};
}

function take(name: string): boolean {
	if (!File.exists(path(name)))
		return false;
	File.delete(path(name));
	return true;
}

export function localRequest(options: LocalRequestOptions): "none" | "setup" | "reset" {
	if (take("reset")) {
		options.log(`setup: ${path("reset")} found: factory reset`);
		return "reset";
	}
	if (take("open")) {
		options.log(`setup: ${path("open")} found: opening setup mode`);
		return "setup";
	}
	return "none";
}

export function openAccess(options: AccessOptions): { close(): void } {
	options.log("setup: simulator: the setup server answers loopback peers only");
	return { close() {} };
}
