/*
 * board/setup-access: what setup mode needs from the platform. esp32: Preference (NVS)
 * for the stored settings, the setup button, a WPA2 access point with captive DNS;
 * simulators: files in the state folder (the file module's root), owner request files. Every variant in modules/board/setup-access/ is type-checked against
 * this declaration (test/contracts/board.ts).
 */
declare module "board/setup-access" {
	import type { Log } from "app/ports";
	import type { BlobStorage } from "app/setup/settings-store";

	/** Stored settings and the setup code: each blob at most 4,000 bytes, each write atomic. */
	export function createBlobs(log: Log): BlobStorage;

	/** Random bytes for the setup code (a board's hardware generator). */
	export function randomBytes(count: number): Uint8Array;

	export interface LocalRequestOptions {
		/** The configured setupButton ("" none) and the inputs that may name it. */
		button: string;
		inputs: Record<string, number>;
		log: Log;
	}

	/** What the owner asked for on the device itself at this boot: nothing, setup mode, or a factory reset. */
	export function localRequest(options: LocalRequestOptions): "none" | "setup" | "reset";

	export interface AccessOptions {
		code: string;
		deviceId: string;
		log: Log;
	}

	/** Opens the way to the setup server (a board's own access point and captive DNS); close() ends it. */
	export function openAccess(options: AccessOptions): { close(): void };
}
