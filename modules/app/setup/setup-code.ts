/*
 * Setup code: the per-device secret that opens setup (the Bearer code of POST /settings,
 * and on ESP32 the access point's WPA2 password).
 *
 * - Made once, at the first boot that needs it, from the platform's random bytes; kept
 *   in the BlobStorage under CODE_NAME; a factory reset forgets it (a new one is made).
 * - CODE_LENGTH characters of a 32-letter alphabet without look-alikes (0/o, 1/l): 50
 *   bits, and at least WPA2's 8 characters. Each byte picks one letter (256 is a
 *   multiple of 32: no bias).
 * - sameCode() compares in time independent of where the strings differ.
 */

import type { BlobStorage } from "./settings-store";

export const CODE_NAME = "code";
export const CODE_LENGTH = 10;
const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
// Made on each use: a RegExp built while preloading crashes XS (test/unit/preloaded-regexp.test.ts).
const CODE_PATTERN = (): RegExp => /^[a-km-np-z2-9]{10}$/;

export function makeCode(random: Uint8Array): string {
	if (random.length < CODE_LENGTH)
		throw new Error(`${CODE_LENGTH} random bytes needed, got ${random.length}`);
	let code = "";
	for (let i = 0; i < CODE_LENGTH; i++)
		code += ALPHABET[random[i] & 31];
	return code;
}

/** The stored code, or a new one stored now; `randomBytes` is the platform's RNG. */
export function setupCode(blobs: BlobStorage, randomBytes: (count: number) => Uint8Array): string {
	const stored = blobs.read(CODE_NAME);
	if (stored !== undefined && CODE_PATTERN().test(stored))
		return stored;
	const code = makeCode(randomBytes(CODE_LENGTH));
	blobs.write(CODE_NAME, code);
	return code;
}

export function sameCode(given: string, code: string): boolean {
	let difference = given.length ^ code.length;
	for (let i = 0; i < code.length; i++)
		difference |= (given.charCodeAt(i) | 0) ^ code.charCodeAt(i);
	return difference === 0;
}
