/*
 * Signing updates on the operator's side: the signature an ota.start must carry.
 *
 * - signUpdate() signs signedMessage() (modules/app/updates/signature.ts, the one owner
 *   of the message format) with an EC P-256 private key, exactly as `openssl dgst
 *   -sha256 -sign key.pem` would, and returns the DER signature in base64.
 * - signedStart() is the whole ota.start payload for an image: url, version, sha256,
 *   size and signature (plus force when asked).
 * - makeOtaSigningKey(dir) makes (or reuses, when it is a P-256 key) the dev signing
 *   key OTA_SIGNING_KEY (PKCS#8 PEM, private: git-ignored with the rest of .dev/) and
 *   writes its public half OTA_KEY_DER (SubjectPublicKeyInfo DER, what firmware
 *   bundles as certs/ota-key.der), with the openssl CLI as the README shows.
 */

import { KeyObject, createHash, createPrivateKey, sign } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { opensslBytes } from "./openssl";
import { signedMessage, type SignedFields } from "../modules/app/updates/signature";

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

export const OTA_SIGNING_KEY = "ota-signing.key";
export const OTA_KEY_DER = "ota-key.der";

function isP256Key(path: string): boolean {
	try {
		return createPrivateKey(readFileSync(path)).asymmetricKeyDetails?.namedCurve === "prime256v1";
	}
	catch {
		return false;
	}
}

/** The dev update-signing key in `dir`: made on first use; returns both paths. */
export function makeOtaSigningKey(dir: string): { otaSigningKey: string; otaKeyDer: string } {
	const otaSigningKey = join(dir, OTA_SIGNING_KEY);
	const otaKeyDer = join(dir, OTA_KEY_DER);
	const run = (args: string[]) => opensslBytes(args, dir);
	if (!isP256Key(otaSigningKey))
		run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", OTA_SIGNING_KEY]);
	if (!existsSync(otaKeyDer) || !readFileSync(otaKeyDer).equals(run(["pkey", "-in", OTA_SIGNING_KEY, "-pubout", "-outform", "DER"])))
		run(["pkey", "-in", OTA_SIGNING_KEY, "-pubout", "-outform", "DER", "-out", OTA_KEY_DER]);
	return { otaSigningKey, otaKeyDer };
}
