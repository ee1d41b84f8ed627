/*
 * ota/ecdsa: the core's Ecdsa port on XS, from the SDK's crypt modules (ecdsa, curve,
 * ecp, Digest). The core has already checked the point (on the curve) and r, s (in
 * 1..n-1): the SDK's verify does neither.
 */

import ECDSA from "ecdsa";
import Curve from "curve";
import ECPoint from "ecp";
import { Digest } from "crypt";
import type { Ecdsa } from "app/ports";

const FIELD = 32;

function toBigInt(bytes: Uint8Array): bigint {
	let value = 0n;
	for (const byte of bytes)
		value = (value << 8n) | BigInt(byte);
	return value;
}

export const ecdsa: Ecdsa = Object.freeze({
	verify(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
		const digest = new Digest("SHA256");
		digest.write(message.slice().buffer as ArrayBuffer);
		const key = new ECPoint(toBigInt(point.subarray(0, FIELD)), toBigInt(point.subarray(FIELD)));
		return new ECDSA(key, new Curve("secp256r1"), false).verify(digest.close(), signature.slice().buffer as ArrayBuffer);
	},
});
