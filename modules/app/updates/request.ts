/*
 * The ota.start request, its argument formats (checked by the command table), the
 * update's states and answers as the wire shows them, why ota.start or ota.cancel is
 * refused (OtaRefused) and the wire code of each refusal (REFUSAL_CODES), and the stable reason
 * codes an update can fail with (the `error.code` of a failed progress message on the
 * ota topic); responseProblem() checks a download's response against the request
 * before anything is written.
 *
 * - url: https: only, host name or IPv4 address, optional port 1..65535, printable
 *   ASCII path, no user info; at most URL_MAX characters.
 * - sha256: 64 hex digits in any case; the request carries them in lower case.
 * - version: 1..32 characters of 0-9 A-Z a-z . + -; compareVersions() orders them.
 * - model: the board model, 1..MODEL_MAX characters of A-Z a-z 0-9 _ . - in levels
 *   separated by single / (as mcconfig's -p spells a platform: lin, sim/moddable_two,
 *   esp32/esp32_thing); a model other than the device's is refused ("model").
 * - size: the image's length in bytes, 1..SIZE_MAX; signature: any string for the
 *   table; UpdateSignature checks it (at most SIGNATURE_MAX characters of base64), so
 *   that a missing or malformed one is E_SIGNATURE.
 * Limits: IPv6 literal hosts are not accepted.
 */

export const OtaState = Object.freeze({
	Idle: "idle",
	Downloading: "downloading",
	Verifying: "verifying",
	Applying: "applying",
	Rebooting: "rebooting",
	Failed: "failed",
});
export type OtaState = typeof OtaState[keyof typeof OtaState];

/** start()'s answer: the update is under way. */
export type OtaStarted = { state: OtaState; version: string };
/** cancel()'s answer: the download ended, failed with E_CANCELLED. */
export type OtaCancelled = { state: OtaState; version: string | null; received: number };

/** Why an update failed: the `error.code` of a failed progress message. */
export const OtaReason = Object.freeze({
	Http: "E_HTTP",			// a status other than 200
	Network: "E_NETWORK",		// no response: TLS refusal, DNS, connection refused (detail from the fetcher)
	Truncated: "E_TRUNCATED",	// the transfer ended before Content-Length bytes
	Length: "E_LENGTH",		// more bytes than Content-Length announced, or a Content-Length of 0
	NoLength: "E_NO_LENGTH",	// no Content-Length: the target must know the size up front
	TooBig: "E_TOO_BIG",		// Content-Length over the target's capacity
	Stall: "E_STALL",			// no data for stallTimeout ms
	Hash: "E_HASH",			// the SHA-256 of the received bytes is not the expected one
	Target: "E_TARGET",		// the update target threw (begin, write or complete)
	Aborted: "E_ABORTED",		// the device stopped during the download
	Deadline: "E_DEADLINE",	// the body took longer than deadlineBase + size at minRate
	Cancelled: "E_CANCELLED",	// an ota.cancel command
	Internal: "E_INTERNAL",	// hashing failed
});
export type OtaReason = typeof OtaReason[keyof typeof OtaReason];

/** Why start() or cancel() refused. */
export const OtaRefusal = Object.freeze({
	Unavailable: "unavailable",	// no fetcher, hash, target or restart on this platform
	Busy: "busy",					// an update is under way or the running one is on trial (start), or installed and rebooting (cancel)
	Signature: "signature",		// the signature is missing, malformed or not by the bundled key
	Version: "version",			// a version not above the running one, without force
	Model: "model",				// an image for another board model
	Idle: "idle",					// cancel with no update running
});
export type OtaRefusal = typeof OtaRefusal[keyof typeof OtaRefusal];

export class OtaRefused extends Error {
	constructor(readonly refusal: OtaRefusal, message: string) {
		super(message);
	}
}

/** The wire code of a refusal: one of the command table's error codes. */
export type RefusalCode = "E_UNAVAILABLE" | "E_BUSY" | "E_SIGNATURE" | "E_VERSION" | "E_MODEL" | "E_IDLE";

/**
 * The one table from refusal to wire code, for every place a refusal is told: the
 * answer to ota.start, ota.cancel and release.install (commands/table.ts, whose
 * ErrorCode type must hold each code) and a fleet release's "ignored" report (fleet.ts).
 */
export const REFUSAL_CODES: Readonly<Record<OtaRefusal, RefusalCode>> = Object.freeze({
	[OtaRefusal.Unavailable]: "E_UNAVAILABLE",
	[OtaRefusal.Busy]: "E_BUSY",
	[OtaRefusal.Signature]: "E_SIGNATURE",
	[OtaRefusal.Version]: "E_VERSION",
	[OtaRefusal.Model]: "E_MODEL",
	[OtaRefusal.Idle]: "E_IDLE",
});

export interface OtaRequest {
	url: string;
	model: string;		// the board model the image is for: must be the device's
	sha256: string;		// 64 hex digits, lower case
	version: string;
	size: number;		// bytes: the download must be exactly this long
	signature: string | undefined;	// base64 DER ECDSA over signedMessage()
	force: boolean;
}

/**
 * Why a download's response cannot be the signed image, or undefined: the status must
 * be 200 and Content-Length 1..capacity and exactly the signed `size`.
 */
export function responseProblem(status: number, length: number | undefined, capacity: number, size: number): { reason: OtaReason; message: string } | undefined {
	if (status !== 200)
		return { reason: OtaReason.Http, message: `HTTP status ${status}` };
	if (length === undefined)
		return { reason: OtaReason.NoLength, message: "the response has no Content-Length" };
	if (!(length > 0))
		return { reason: OtaReason.Length, message: `Content-Length ${length}: empty image` };
	if (length > capacity)
		return { reason: OtaReason.TooBig, message: `image of ${length} bytes exceeds the target's ${capacity}` };
	if (length !== size)
		return { reason: length > size ? OtaReason.TooBig : OtaReason.Truncated, message: `Content-Length ${length} is not the signed size ${size}` };
	return undefined;
}

// The ota.start argument formats (checked by the command table). The patterns are made on
// each use: a preloaded RegExp crashes XS (README, notes on changing the firmware).
export const URL_MAX = 200;
// A port is 1..65535 without leading zeros: ":0" would make a client dial its default 443.
export const HTTPS_URL = (): RegExp => /^https:\/\/[A-Za-z0-9.-]+(:(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(\/[!-~]*)?$/;
export const SHA256_HEX = (): RegExp => /^[0-9A-Fa-f]{64}$/;
export const VERSION = (): RegExp => /^[0-9A-Za-z.+-]{1,32}$/;
export const SIZE_MAX = 0x7FFFFFFF;
export { MODEL, MODEL_MAX } from "../config/config";	// the config key's format: one owner
export const SIGNATURE_MAX = 200;

/**
 * Orders two versions numerically by dotted parts: "1.10" > "1.9", "1.0" = "1.0.0".
 * Each part counts as the number its leading digits make (0 when it has none), so
 * "1.0.0-rc1" equals "1.0.0". Returns <0, 0 or >0.
 */
export function compareVersions(a: string, b: string): number {
	const left = a.split(".");
	const right = b.split(".");
	for (let i = 0; i < Math.max(left.length, right.length); i++) {
		const difference = leadingNumber(left[i]) - leadingNumber(right[i]);
		if (difference !== 0)
			return difference;
	}
	return 0;
}

function leadingNumber(part: string | undefined): number {
	const digits = /^[0-9]+/.exec(part ?? "");
	return digits ? Number(digits[0]) : 0;
}
