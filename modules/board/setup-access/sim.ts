/*
 * board/setup-access (simulators): setup mode on the host computer.
 *
 * - Blobs are files `setup-<name>` in the build's own state folder (board/storage's
 *   fileRoot(): beside the build's mc.so, emptied when it is linked again); a write goes to a
 *   temporary file renamed over the old one, so a cut leaves the old blob whole.
 * - The owner asks locally by creating a file in the state folder before the device
 *   starts: `setup-open` opens setup mode, `setup-reset` is a factory reset (stored
 *   settings and setup code forgotten). The file is removed as it is honoured.
 * - Random bytes: the SDK's rng draws from the C library's rand(), which the simulator
 *   never seeds (every first boot would get the same code), so the wall clock and the
 *   tick counter are mixed in. A simulator's code is guessable by someone who knows
 *   when it booted; a board's comes from its hardware generator.
 * - No access point: the setup server is reached on the host, at 127.0.0.1.
 * Limits: the SDK's lin Listener binds every interface, and its socket's REMOTE_IP is
 * not the peer's address on lin (inet_ntop is handed the whole sockaddr), so the
 * server cannot turn away other hosts: the setup code is what protects it.
 */

import { File } from "file";
import RNG from "rng";
import Time from "time";
import { fileRoot } from "board/storage";
import type { Log } from "app/ports";
import type { BlobStorage } from "app/setup/settings-store";
import type { AccessOptions, LocalRequestOptions } from "board/setup-access";

const root = (): string => fileRoot() ?? "/tmp/";
const path = (name: string) => `${root()}setup-${name}`;

export function randomBytes(count: number): Uint8Array {
	const bytes = new Uint8Array(RNG.get(count));
	let state = (Date.now() ^ Math.imul(Time.ticks, 0x9e3779b1)) >>> 0 || 1;
	for (let i = 0; i < count; i++) {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		state >>>= 0;
		bytes[i] ^= (state >>> 24) ^ Math.floor(Math.random() * 256);
	}
	return bytes;
}

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
	options.log("setup: simulator: reach the setup server at http://127.0.0.1 on the setup port");
	return { close() {} };
}
