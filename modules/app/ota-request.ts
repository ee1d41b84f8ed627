/*
 * The ota.start request, its argument formats (checked by the command table), why
 * ota.start or ota.cancel is refused (OtaRefused, named on the wire by the command
 * table), and the stable reason codes an update can fail with (the `error.code` of a
 * failed progress message on the ota topic).
 *
 * - url: https: only, host name or IPv4 address, optional port, printable ASCII path,
 *   no user info; at most URL_MAX characters.
 * - sha256: 64 hex digits in any case; the request carries them in lower case.
 * - version: 1..32 characters of 0-9 A-Z a-z . + -
 * Limits: IPv6 literal hosts are not accepted.
 */

/** Why an update failed: the `error.code` of a failed progress message. */
export enum OtaReason {
	Http = "E_HTTP",			// a status other than 200
	Network = "E_NETWORK",		// no response: TLS refusal, DNS, connection refused (detail from the fetcher)
	Truncated = "E_TRUNCATED",	// the transfer ended before Content-Length bytes
	Length = "E_LENGTH",		// more bytes than Content-Length announced, or a Content-Length of 0
	NoLength = "E_NO_LENGTH",	// no Content-Length: the target must know the size up front
	TooBig = "E_TOO_BIG",		// Content-Length over the target's capacity
	Stall = "E_STALL",			// no data for stallTimeout ms
	Hash = "E_HASH",			// the SHA-256 of the received bytes is not the expected one
	Target = "E_TARGET",		// the update target threw (begin, write or complete)
	Aborted = "E_ABORTED",		// the device stopped during the download
	Deadline = "E_DEADLINE",	// the body took longer than deadlineBase + size at minRate
	Cancelled = "E_CANCELLED",	// an ota.cancel command
	Internal = "E_INTERNAL",	// hashing failed
}

/** Why start() or cancel() refused. */
export enum OtaRefusal {
	Unavailable = "unavailable",	// no fetcher, hash, target or restart on this platform
	Busy = "busy",					// an update is under way (start), or installed and rebooting (cancel)
	Version = "version",			// the version already running, without force
	Idle = "idle",					// cancel with no update running
}

export class OtaRefused extends Error {
	constructor(readonly refusal: OtaRefusal, message: string) {
		super(message);
	}
}

export interface OtaRequest {
	url: string;
	sha256: string;		// 64 hex digits, lower case
	version: string;
	force: boolean;
}

// The ota.start argument formats (checked by the command table).
export const URL_MAX = 200;
export const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[!-~]*)?$/;
export const SHA256_HEX = /^[0-9A-Fa-f]{64}$/;
export const VERSION = /^[0-9A-Za-z.+-]{1,32}$/;
