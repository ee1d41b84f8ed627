// The part of the SDK's `crypt` module used here, for type-checking without the SDK
// (mcconfig builds use the SDK's own typings/crypt.d.ts).
declare module "crypt" {
	export class Digest {
		constructor(type: "SHA256" | "SHA1" | "MD5" | "SHA224" | "SHA384" | "SHA512");
		write(message: string | ArrayBuffer): void;
		close(): ArrayBuffer;
	}
}
