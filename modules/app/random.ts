/*
 * mixedRandom: a uniform [0, 1) source whose sequence differs per device and per boot.
 *
 * - XS takes Math.random from the C library's rand(), which some ports never seed:
 *   every device would then draw the same "random" backoff and a fleet would still
 *   reconnect in lockstep. Mixing the device id and boot-time entropy into a small
 *   xorshift generator breaks that tie; Math.random is mixed in as well, so a port
 *   with a real generator loses nothing.
 * Not for cryptography.
 */

export function mixedRandom(deviceId: string, entropy: number, base: () => number = Math.random): () => number {
	let state = 0x9e3779b9 ^ Math.floor(entropy);
	for (let i = 0; i < deviceId.length; i++)
		state = Math.imul(state ^ deviceId.charCodeAt(i), 0x01000193);
	state = state >>> 0 || 1;
	return () => {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		state >>>= 0;
		const mixed = (state / 0x100000000 + base()) % 1;
		return mixed;
	};
}
