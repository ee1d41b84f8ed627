/*
 * The encodings around an ECDSA P-256 update signature, parsed strictly with the
 * language alone (the curve math itself is the Ecdsa port's).
 *
 * - decodeBase64(): standard alphabet, padding required, no whitespace; anything else
 *   throws.
 * - parseSignature(): the DER `SEQUENCE { INTEGER r, INTEGER s }` that `openssl dgst
 *   -sign` writes. Refused (throws, saying why): a wrong tag, a long-form or wrong
 *   length, a truncated body, bytes after the sequence, a negative or non-minimally
 *   encoded integer, and r or s outside 1..n-1 (the SDK's verify does not check this
 *   range; r = 0 or s = 0 would otherwise reach its modular inverse). Returns r || s,
 *   32 bytes each, big-endian: what the port verifies.
 * - parsePublicKey(): exactly the 91-byte SubjectPublicKeyInfo of an uncompressed
 *   P-256 key (`openssl pkey -pubout -outform der`); another algorithm, another curve,
 *   a compressed point or a point off the curve throws. Returns x || y, 32 bytes each.
 */

/** The order n of the P-256 base point. */
export const P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;
const P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFFn;
const P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604Bn;
const FIELD = 32;	// bytes in a coordinate, r or s

// SEQUENCE { SEQUENCE { OID ecPublicKey, OID prime256v1 }, BIT STRING (0 unused bits, 0x04 ...
const SPKI_PREFIX = [
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
	0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];
const SPKI_LENGTH = SPKI_PREFIX.length + 2 * FIELD;
const EC_PUBLIC_KEY_OID = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64 = () => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;	// made on each use: a preloaded RegExp crashes XS (README, notes on changing the firmware)

export function decodeBase64(text: string): Uint8Array {
	if (!BASE64().test(text))
		throw new Error("not base64");
	const body = text.replace(/=+$/, "");
	const bytes = new Uint8Array(Math.floor(body.length * 3 / 4));
	let bits = 0;
	let value = 0;
	let at = 0;
	for (let i = 0; i < body.length; i++) {
		value = (value << 6) | ALPHABET.indexOf(body[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[at++] = (value >> bits) & 0xFF;
		}
	}
	if (value & ((1 << bits) - 1))
		throw new Error("not base64 (stray bits before the padding)");
	return bytes;
}

/** A DER signature to r || s; throws an Error saying what is wrong with it. */
export function parseSignature(der: Uint8Array): Uint8Array {
	if (der.length < 2 || der[0] !== 0x30)
		throw new Error("not a DER SEQUENCE");
	if (der[1] & 0x80)
		throw new Error("long-form length (a P-256 signature needs none)");
	if (der[1] + 2 !== der.length)
		throw new Error(der[1] + 2 > der.length ? "truncated" : `${der.length - der[1] - 2} bytes after the signature`);
	const r = readInteger(der, 2, "r");
	const s = readInteger(der, r.next, "s");
	if (s.next !== der.length)
		throw new Error("extra bytes inside the SEQUENCE");
	const out = new Uint8Array(2 * FIELD);
	out.set(fixed(r.value), 0);
	out.set(fixed(s.value), FIELD);
	return out;
}

/** A SubjectPublicKeyInfo to x || y; throws an Error saying why it is not a P-256 key. */
export function parsePublicKey(der: Uint8Array): Uint8Array {
	const algorithmMatches = EC_PUBLIC_KEY_OID.every((byte, i) => der[4 + i] === byte);
	if (der.length !== SPKI_LENGTH || !SPKI_PREFIX.every((byte, i) => der[i] === byte))
		throw new Error(algorithmMatches ? "an EC key, but not an uncompressed P-256 (prime256v1) one" : "not an EC public key (SubjectPublicKeyInfo DER)");
	const point = der.slice(SPKI_PREFIX.length);
	const x = toBigInt(point.subarray(0, FIELD));
	const y = toBigInt(point.subarray(FIELD));
	if (x >= P256_P || y >= P256_P || (y * y - (x * x * x - 3n * x + P256_B)) % P256_P !== 0n)
		throw new Error("the point is not on the P-256 curve");
	return point;
}

function readInteger(der: Uint8Array, at: number, name: string): { value: bigint; next: number } {
	if (at + 2 > der.length || der[at] !== 0x02)
		throw new Error(`${name}: not an INTEGER`);
	const length = der[at + 1];
	const start = at + 2;
	if (length === 0 || length & 0x80 || start + length > der.length)
		throw new Error(`${name}: bad length ${length}`);
	if (der[start] & 0x80)
		throw new Error(`${name}: negative`);
	if (der[start] === 0 && length > 1 && !(der[start + 1] & 0x80))
		throw new Error(`${name}: not minimally encoded`);
	const value = toBigInt(der.subarray(start, start + length));
	if (value === 0n || value >= P256_N)
		throw new Error(`${name} is outside 1..n-1`);
	return { value, next: start + length };
}

function toBigInt(bytes: Uint8Array): bigint {
	let value = 0n;
	for (const byte of bytes)
		value = (value << 8n) | BigInt(byte);
	return value;
}

function fixed(value: bigint): Uint8Array {
	const out = new Uint8Array(FIELD);
	for (let i = FIELD - 1; i >= 0; i--, value >>= 8n)
		out[i] = Number(value & 0xFFn);
	return out;
}
