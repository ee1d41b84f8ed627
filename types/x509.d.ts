// The parts of the SDK's certificate parsers (modules/crypt/etc: x509, pkcs8, ber) the
// firmware uses to check its bundled credentials; untyped in the SDK.
interface X509PublicKey {
	/** RSA keys only (EC keys carry `curve` and `pub` instead). */
	modulus?: bigint;
	exponent?: bigint;
}

declare module "x509" {
	const X509: {
		decode(buffer: Uint8Array): { tbs: Uint8Array; algo: Uint32Array; sig: ArrayBuffer; spki: X509PublicKey };
		decodeTBS(tbs: Uint8Array): { validity: { from: number; to: number } };
	};
	export default X509;
}

declare module "pkcs8" {
	const PKCS8: {
		/** An unencrypted PKCS#8 RSA private key; throws or returns garbage for anything else. */
		parse(buffer: Uint8Array): { modulus: bigint; exponent: bigint };
	};
	export default PKCS8;
}

declare module "ber" {
	export default class BER {
		constructor(buffer: ArrayBuffer | Uint8Array);
		getTag(): number;
		getLength(): number;
		getInteger(): bigint;
		getSequence(): Uint8Array;
		getObjectIdentifier(): Uint32Array;
	}
}
