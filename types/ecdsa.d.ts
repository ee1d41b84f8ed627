// The SDK's ECDSA pieces (modules/crypt/etc/ecdsa.js, curve.js, arith/ecp.js), untyped
// there; only what the update-signature check uses.
declare module "ecdsa" {
	export default class ECDSA {
		/** `key` is the public point for verification (priv false). */
		constructor(key: object, curve: object, priv: boolean);
		/** `hash` is the message digest; `signature` r || s (asn1 false) or DER (asn1 true). Does not range-check r and s. */
		verify(hash: ArrayBuffer, signature: ArrayBuffer, asn1?: boolean): boolean;
	}
}
declare module "curve" {
	export default class Curve {
		constructor(name: "secp256r1" | "secp384r1");
	}
}
declare module "ecp" {
	export default class ECPoint {
		constructor(x: bigint, y: bigint);
	}
}
