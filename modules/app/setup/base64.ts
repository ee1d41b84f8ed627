/*
 * base64: the standard alphabet (RFC 4648), padded, in the portable core (XS has no atob).
 *
 * - decodeBase64() ignores whitespace (PEM bodies are wrapped) and returns undefined for
 *   anything else that is not base64: a wrong character, a wrong length, bad padding.
 * - encodeBase64() pads; the stored settings keep DER bytes this way.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function encodeBase64(bytes: Uint8Array): string {
	let text = "";
	for (let at = 0; at < bytes.length; at += 3) {
		const a = bytes[at], b = bytes[at + 1] ?? 0, c = bytes[at + 2] ?? 0;
		text += ALPHABET[a >> 2] + ALPHABET[((a & 3) << 4) | (b >> 4)];
		text += at + 1 < bytes.length ? ALPHABET[((b & 15) << 2) | (c >> 6)] : "=";
		text += at + 2 < bytes.length ? ALPHABET[c & 63] : "=";
	}
	return text;
}

export function decodeBase64(text: string): Uint8Array | undefined {
	const clean = text.replace(/\s+/g, "");
	if (clean.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean))
		return undefined;
	const padding = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
	const bytes = new Uint8Array(clean.length / 4 * 3 - padding);
	let out = 0;
	for (let at = 0; at < clean.length; at += 4) {
		const quad = [0, 1, 2, 3].map(i => clean[at + i] === "=" ? 0 : ALPHABET.indexOf(clean[at + i]));
		const triple = (quad[0] << 18) | (quad[1] << 12) | (quad[2] << 6) | quad[3];
		for (const byte of [triple >> 16, (triple >> 8) & 255, triple & 255])
			if (out < bytes.length)
				bytes[out++] = byte;
	}
	return bytes;
}
