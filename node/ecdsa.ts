/*
 * nodeEcdsa: the core's Ecdsa port on Node (node:crypto). The key arrives as the
 * point the core already checked (x || y); the signature as r || s (IEEE P1363).
 */

import { createPublicKey, verify } from "node:crypto";
import type { Ecdsa } from "../modules/app/ports";

const FIELD = 32;

export const nodeEcdsa: Ecdsa = {
	verify(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
		const key = createPublicKey({
			key: { kty: "EC", crv: "P-256", x: Buffer.from(point.subarray(0, FIELD)).toString("base64url"), y: Buffer.from(point.subarray(FIELD)).toString("base64url") },
			format: "jwk",
		});
		return verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
	},
};
