/*
 * Signed updates: the canonical message, the strict encodings (base64, DER signature,
 * P-256 SubjectPublicKeyInfo), r and s range checks the SDK's verify lacks, and the
 * refusals through the whole core, each with nothing fetched or written.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { OTA, assertError, ready, signedOta } from "./support/command-device";
import { Signer, TEST_SIGNER, image } from "./support/ota-fakes";
import { P256_N, decodeBase64, parsePublicKey, parseSignature } from "../../modules/app/updates/der";
import { UpdateSignature, signedMessage, utf8 } from "../../modules/app/updates/signature";
import { compareVersions } from "../../modules/app/updates/request";
import { OtaRefusal } from "../../modules/app/updates/ota";
import { nodeEcdsa } from "../../node/ecdsa";

const URL = "https://updates.example.com/fw.bin";
const { bytes: IMAGE, sha256: SHA } = image(3_000);
const FIELDS = { version: "1.1.0", size: IMAGE.length, sha256: SHA };

/** DER INTEGER of a non-negative bigint, minimally encoded. */
function integer(value: bigint): number[] {
	let hex = value.toString(16);
	if (hex.length % 2)
		hex = "0" + hex;
	const bytes = [...Buffer.from(hex, "hex")];
	if (bytes[0] & 0x80)
		bytes.unshift(0);
	return [0x02, bytes.length, ...bytes];
}
const sequence = (...parts: number[][]) => new Uint8Array([0x30, parts.flat().length, ...parts.flat()]);
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

test("signature: the canonical message is exactly ota1, version, size, lower-case sha256, joined by newlines", () => {
	assert.equal(signedMessage({ version: "1.2.3", size: 4096, sha256: "AB".repeat(32) }), `ota1\n1.2.3\n4096\n${"ab".repeat(32)}`);
	assert.deepEqual([...utf8("ota1\n1.0")], [...Buffer.from("ota1\n1.0", "utf8")]);
	assert.deepEqual([...utf8("é€😀")], [...Buffer.from("é€😀", "utf8")]);
});

test("signature: one made by openssl's format (DER, node:crypto as openssl dgst -sha256 -sign) verifies", () => {
	const der = sign("sha256", Buffer.from(signedMessage(FIELDS)), { key: TEST_SIGNER.privateKey, dsaEncoding: "der" });
	const check = UpdateSignature.load(TEST_SIGNER.spki, nodeEcdsa, "ota-key.der");
	assert.equal(check.problem, undefined);
	check.check(FIELDS, der.toString("base64"));
	assert.throws(() => check.check({ ...FIELDS, size: FIELDS.size + 1 }, der.toString("base64")), /not by the bundled/);
	assert.throws(() => check.check({ ...FIELDS, version: "1.1.1" }, der.toString("base64")), /not by the bundled/);
	assert.throws(() => check.check({ ...FIELDS, sha256: "0" + SHA.slice(1) }, der.toString("base64")), /not by the bundled/);
});

test("signature: r and s of 0, n or above are refused before the curve math", () => {
	for (const [r, s] of [[0n, 1n], [1n, 0n], [P256_N, 1n], [1n, P256_N], [P256_N + 1n, 1n], [1n << 256n, 1n]])
		assert.throws(() => parseSignature(sequence(integer(r), integer(s))), /outside 1..n-1|bad length/, `r=${r} s=${s}`);
	assert.equal(parseSignature(sequence(integer(P256_N - 1n), integer(1n))).length, 64);
});

test("signature: non-strict DER is refused (truncated, extra bytes, wrong lengths, negative, padded)", () => {
	const good = new Uint8Array(sign("sha256", Buffer.from("x"), { key: TEST_SIGNER.privateKey, dsaEncoding: "der" }));
	assert.equal(parseSignature(good).length, 64);
	const refused = (bytes: Uint8Array | number[], why: RegExp) => assert.throws(() => parseSignature(new Uint8Array(bytes)), why);
	refused(good.subarray(0, good.length - 1), /truncated/);
	refused([...good, 0], /after the signature/);
	refused([], /SEQUENCE/);
	refused([0x31, ...good.subarray(1)], /SEQUENCE/);
	refused([0x30, 0x81, good.length - 2, ...good.subarray(2)], /long-form/);
	const r = integer(5n), s = integer(7n);
	refused(sequence(r), /s: not an INTEGER/);
	refused(sequence(r, s, [0x05, 0x00]), /extra bytes/);
	refused(sequence([0x02, 0x05, 0x05], s), /bad length/);
	refused(sequence([0x02, 0x00], s), /bad length/);
	refused(sequence([0x02, 0x01, 0x85], s), /negative/);
	refused(sequence([0x02, 0x02, 0x00, 0x05], s), /minimally/);
	refused(sequence([0x04, 0x01, 0x05], s), /r: not an INTEGER/);
});

test("signature: a signature by a P-384 key (another curve) is refused as malformed, one by another P-256 key as not ours", () => {
	const check = UpdateSignature.load(TEST_SIGNER.spki, nodeEcdsa, "ota-key.der");
	const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
	const foreign = sign("sha256", Buffer.from(signedMessage(FIELDS)), { key: p384, dsaEncoding: "der" }).toString("base64");
	assert.throws(() => check.check(FIELDS, foreign), (error: Error & { refusal?: string }) => error.refusal === OtaRefusal.Signature && /malformed/.test(error.message));
	assert.throws(() => check.check(FIELDS, new Signer().sign(FIELDS)), (error: Error & { refusal?: string }) => error.refusal === OtaRefusal.Signature && /not by the bundled/.test(error.message));
});

test("signature: base64 is strict", () => {
	assert.deepEqual([...decodeBase64("AAEC")], [0, 1, 2]);
	assert.deepEqual([...decodeBase64("AAE=")], [0, 1]);
	assert.deepEqual([...decodeBase64("AA==")], [0]);
	for (const bad of ["AAE", "AA=", "A===", "AA E", "AA-_", "AAF=", "AB=="])
		assert.throws(() => decodeBase64(bad), /base64/, bad);
});

test("signing key: only an uncompressed P-256 SubjectPublicKeyInfo on the curve is usable", () => {
	assert.equal(parsePublicKey(TEST_SIGNER.spki).length, 64);
	const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "der" });
	assert.throws(() => parsePublicKey(new Uint8Array(p384)), /not an uncompressed P-256/);
	const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "der" });
	assert.throws(() => parsePublicKey(new Uint8Array(rsa)), /not an EC public key/);
	assert.throws(() => parsePublicKey(TEST_SIGNER.spki.subarray(0, 90)), /P-256/);
	const offCurve = TEST_SIGNER.spki.slice();
	offCurve[90] ^= 1;
	assert.throws(() => parsePublicKey(offCurve), /not on the P-256 curve/);
	for (const [key, why] of [[undefined, /not bundled/], [new Uint8Array(p384), /unusable/]] as const)
		assert.match(UpdateSignature.load(key, nodeEcdsa, "ota-key.der").problem ?? "", why);
	assert.match(UpdateSignature.load(TEST_SIGNER.spki, undefined, "ota-key.der").problem ?? "", /no ECDSA/);
});

test("versions compare numerically by dotted parts", () => {
	assert.ok(compareVersions("1.10.0", "1.9.0") > 0);
	assert.ok(compareVersions("2", "1.99.99") > 0);
	assert.ok(compareVersions("1.0.1", "1.0.0") > 0);
	assert.equal(compareVersions("1.0", "1.0.0"), 0);
	assert.equal(compareVersions("1.0.0-rc1", "1.0.0"), 0);
	assert.ok(compareVersions("0.9.9", "1.0.0") < 0);
	assert.ok(compareVersions("1.2.3+build.9", "1.2.4") < 0);
});

test("ota.start: a missing, malformed or foreign signature is E_SIGNATURE with nothing fetched or written", () => {
	const s = ready();
	const start = (extra: Record<string, unknown>) => s.send(signedOta({ url: URL, ...FIELDS }, extra));
	assertError(start({ signature: undefined }), "u", "E_SIGNATURE", "missing");
	assertError(start({ signature: "" }), "u", "E_SIGNATURE", "missing");
	assertError(start({ signature: "not base64!" }), "u", "E_SIGNATURE", "malformed");
	assertError(start({ signature: "A".repeat(400) }), "u", "E_SIGNATURE", "malformed");
	assertError(start({ signature: base64(sequence(integer(0n), integer(1n))) }), "u", "E_SIGNATURE", "outside 1..n-1");
	assertError(start({ signature: new Signer().sign(FIELDS) }), "u", "E_SIGNATURE", "not by the bundled");
	const signedForOther = signedOta({ url: URL, ...FIELDS }).signature;
	assertError(start({ signature: signedForOther, size: FIELDS.size + 1 }), "u", "E_SIGNATURE", "not by the bundled");
	assertError(start({ signature: signedForOther, force: true, version: "9.0.0" }), "u", "E_SIGNATURE");
	assert.equal(s.fetcher!.downloads.length, 0, "nothing fetched");
	assert.deepEqual(s.target!.calls, [], "nothing written");
	assert.deepEqual(s.transport.last.on(OTA), [], "no progress");
	assert.equal(start({}).ok, true, "the properly signed request goes ahead");
	assert.equal(s.fetcher!.downloads.length, 1);
	assert.equal(createHash("sha256").update(IMAGE).digest("hex"), SHA);
});

test("ota.start: a firmware without the signing key refuses with E_UNAVAILABLE and says why, in the trace too", () => {
	const s = ready({ otaKey: null });
	assertError(s.send(signedOta({ url: URL, ...FIELDS })), "u", "E_UNAVAILABLE", "ota-key.der");
	assert.ok(s.log.lines.some(line => line.includes("ota: updates refused") && line.includes("not bundled")), s.log.lines.join("\n"));
	assert.equal(s.fetcher!.downloads.length, 0);
	const wrong = ready({ otaKey: new Uint8Array(generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "der" })) });
	assertError(wrong.send(signedOta({ url: URL, ...FIELDS })), "u", "E_UNAVAILABLE", "P-256");
});
