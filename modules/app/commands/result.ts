/*
 * Command results: the stable error codes and the one place result payloads are built.
 *
 * - ok:     {"id":<id>,"ok":true,...fields}
 * - failed: {"id":<id>,"ok":false,"error":{"code":"E_...","message":"..."}}
 * - `id` is the command's id when it could be read (a string of at most 64 bytes as
 *   JSON, parse.ts MAX_ID, or a finite number), else null.
 * - Every payload stays under MAX_RESULT_BYTES (limits.ts MAX_PAYLOAD): one TLS write
 *   on the device carries about 850 bytes and the transport throws on more. Messages quote offending values
 *   through describe(), which shortens them; a result that still comes out too large
 *   (it should not) is replaced by E_INTERNAL with the same id.
 * Limits: byte lengths are counted as UTF-8, which is what goes on the wire.
 */

import { MAX_PAYLOAD, utf8Length } from "../limits";

export { describe } from "../describe";
export { utf8Length } from "../limits";
export enum ErrorCode {
	TooLarge = "E_TOO_LARGE",		// payload over the size limit, not parsed
	Parse = "E_PARSE",				// not JSON
	Shape = "E_SHAPE",				// JSON, but not a command: nesting, types, missing or extra fields
	Op = "E_OP",					// unknown op
	Pin = "E_PIN",					// pin name not configured (or not usable for this op)
	Range = "E_RANGE",				// a number outside its allowed range, a string not in its format
	Busy = "E_BUSY",				// the pin is in the middle of a pulse, an update is running
	Version = "E_VERSION",			// ota.start for a version not above the running one, without force
	Signature = "E_SIGNATURE",		// ota.start without a valid signature by the bundled update-signing key
	Idle = "E_IDLE",				// ota.cancel with no update running
	Retained = "E_RETAINED",		// a retained (stale) command: never executed
	Unavailable = "E_UNAVAILABLE",	// the platform cannot do it (no restart port, no OTA ports)
	Internal = "E_INTERNAL",		// the handler failed unexpectedly (a pin write threw)
}

/** Thrown by validation and handlers; caught by the command channel and answered. */
export class CommandError extends Error {
	constructor(readonly code: ErrorCode, message: string) {
		super(message);
	}
}

export type CommandId = string | number | null;
export type ResultValue = string | number | boolean | null | { [key: string]: ResultValue };
export type ResultFields = { [key: string]: ResultValue };

export const MAX_RESULT_BYTES = MAX_PAYLOAD;

export function okResult(id: CommandId, fields: ResultFields): string {
	const payload = JSON.stringify({ id, ok: true, ...fields });
	return utf8Length(payload) <= MAX_RESULT_BYTES ? payload : errorResult(id, ErrorCode.Internal, "result too large");
}

export function errorResult(id: CommandId, code: ErrorCode, message: string): string {
	const payload = JSON.stringify({ id, ok: false, error: { code, message } });
	if (utf8Length(payload) <= MAX_RESULT_BYTES)
		return payload;
	return JSON.stringify({ id, ok: false, error: { code, message: message.slice(0, 64) } });
}
