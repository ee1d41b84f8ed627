/*
 * Signing updates on the operator's side: the signature an ota.start must carry.
 *
 * - signUpdate() signs signedMessage() (modules/app/ota-signature.ts, the one owner
 *   of the message format) with an EC P-256 private key, exactly as `openssl dgst
 *   -sha256 -sign key.pem` would, and returns the DER signature in base64.
 * - signedStart() is the whole ota.start payload for an image: url, version, sha256,
 *   size and signature (plus force when asked).
 */

import { KeyObject, createHash, createPrivateKey, sign } from "node:crypto";
import { signedMessage, type SignedFields } from "../modules/app/ota-signature";

export function signUpdate(privateKey: KeyObject | string | Buffer, fields: SignedFields): string {
	const key = privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey);
	if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
		throw new Error("the update-signing key must be an EC P-256 (prime256v1) private key");
	return sign("sha256", Buffer.from(signedMessage(fields), "utf8"), { key, dsaEncoding: "der" }).toString("base64");
}

export interface SignedStart {
	op: "ota.start";
	url: string;
	version: string;
	sha256: string;
	size: number;
	signature: string;
	force?: true;
}

export function signedStart(privateKey: KeyObject | string | Buffer, image: Uint8Array, url: string, version: string, force = false): SignedStart {
	const sha256 = createHash("sha256").update(image).digest("hex");
	const fields = { version, size: image.length, sha256 };
	return { op: "ota.start", url, ...fields, signature: signUpdate(privateKey, fields), ...(force ? { force: true as const } : {}) };
}
