/*
 * UpdateSignature: who may update this device. An ota.start is executed only when its
 * `signature` was made by the bundled update-signing key over the canonical message.
 *
 * - signedMessage() is the contract operators sign: the UTF-8 bytes of exactly
 *   `ota1\n<version>\n<size>\n<sha256 as lowercase hex>` (no trailing newline). The
 *   signature is base64 of the DER ECDSA signature `openssl dgst -sha256 -sign` writes.
 * - UpdateSignature.load() takes the key's SubjectPublicKeyInfo DER (or undefined when
 *   the firmware was built without one) and the Ecdsa port; a missing, unusable key or
 *   port leaves `problem` set: every ota.start is then E_UNAVAILABLE with that text.
 * - check() throws OtaRefused "signature" (E_SIGNATURE on the wire) when the signature is missing, is not
 *   base64, is not strict DER, has r or s outside 1..n-1, or does not verify.
 * Limits: one key; rotating it means shipping an image that bundles the next key,
 * signed with the current one.
 */

import type { Ecdsa } from "../ports";
import { OtaRefused, OtaRefusal, SIGNATURE_MAX } from "./request";
import { decodeBase64, parsePublicKey, parseSignature } from "./der";

export const MESSAGE_TAG = "ota1";

/** What the operator signs for one image. */
export interface SignedFields {
	version: string;
	size: number;
	sha256: string;
}

export function signedMessage(fields: SignedFields): string {
	return `${MESSAGE_TAG}\n${fields.version}\n${fields.size}\n${fields.sha256.toLowerCase()}`;
}

/** UTF-8 bytes of `text` (the core has no TextEncoder on XS). */
export function utf8(text: string): Uint8Array {
	const bytes: number[] = [];
	for (const char of text) {
		const code = char.codePointAt(0)!;
		if (code < 0x80)
			bytes.push(code);
		else if (code < 0x800)
			bytes.push(0xC0 | (code >> 6), 0x80 | (code & 0x3F));
		else if (code < 0x10000)
			bytes.push(0xE0 | (code >> 12), 0x80 | ((code >> 6) & 0x3F), 0x80 | (code & 0x3F));
		else
			bytes.push(0xF0 | (code >> 18), 0x80 | ((code >> 12) & 0x3F), 0x80 | ((code >> 6) & 0x3F), 0x80 | (code & 0x3F));
	}
	return Uint8Array.from(bytes);
}

export class UpdateSignature {
	/** Why updates are refused (no key, unusable key, no curve port), else undefined. */
	readonly problem: string | undefined;
	readonly #point: Uint8Array | undefined;
	readonly #ecdsa: Ecdsa | undefined;

	private constructor(point: Uint8Array | undefined, ecdsa: Ecdsa | undefined, problem: string | undefined) {
		this.#point = point;
		this.#ecdsa = ecdsa;
		this.problem = problem;
	}

	/** `keyName` names the key in the problem text (the config's otaKey). */
	static load(keyDer: Uint8Array | undefined, ecdsa: Ecdsa | undefined, keyName: string): UpdateSignature {
		if (!ecdsa)
			return new UpdateSignature(undefined, undefined, "no ECDSA verifier on this platform");
		if (!keyDer)
			return new UpdateSignature(undefined, undefined, `no update-signing key: "${keyName}" is not bundled (certs/ota-key.der, config otaKey)`);
		try {
			return new UpdateSignature(parsePublicKey(keyDer), ecdsa, undefined);
		}
		catch (error) {
			return new UpdateSignature(undefined, undefined, `update-signing key "${keyName}" is unusable: ${(error as Error).message}`);
		}
	}

	/** Throws E_SIGNATURE unless `signature` signs `fields` under the bundled key. */
	check(fields: SignedFields, signature: string | undefined): void {
		if (!this.#point || !this.#ecdsa)
			throw new OtaRefused(OtaRefusal.Unavailable, this.problem ?? "no update-signing key");
		if (signature === undefined || signature === "")
			throw new OtaRefused(OtaRefusal.Signature, "missing signature (base64 DER ECDSA P-256 over ota1\\n<version>\\n<size>\\n<sha256>)");
		let rs: Uint8Array;
		try {
			if (signature.length > SIGNATURE_MAX)
				throw new Error(`${signature.length} characters, at most ${SIGNATURE_MAX}`);
			rs = parseSignature(decodeBase64(signature));
		}
		catch (error) {
			throw new OtaRefused(OtaRefusal.Signature, `malformed signature: ${(error as Error).message}`);
		}
		let valid: boolean;
		try {
			valid = this.#ecdsa.verify(this.#point, utf8(signedMessage(fields)), rs);
		}
		catch (error) {
			throw new OtaRefused(OtaRefusal.Signature, `signature check failed: ${String(error).slice(0, 60)}`);
		}
		if (!valid)
			throw new OtaRefused(OtaRefusal.Signature, "the signature is not by the bundled update-signing key for this version, size and sha256");
	}
}
