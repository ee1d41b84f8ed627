/*
 * The part of the SDK's `crypt` module used here (Digest, as the SDK's own
 * typings/crypt.d.ts declares it), so `npm run check` needs no SDK; @moddable/typings
 * from npm has no crypt. manifest_typings.json makes mcconfig compile against this file.
 */
declare module "crypt" {
	type DigestType = "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512";

	export class Digest {
		constructor(type: DigestType);
		write(message: string | ArrayBuffer): void;
		close(): ArrayBuffer;
		reset(): void;
		get blockSize(): number;
		get outputSize(): number;
		update(message: string | ArrayBuffer): void;
	}
}
