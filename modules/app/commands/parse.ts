/*
 * parseCommand: turns a command payload into an object with an op, or an error, safely.
 *
 * - Checks run cheapest and most dangerous first: size (> MAX_PAYLOAD_BYTES is
 *   E_TOO_LARGE), then nesting depth (> MAX_DEPTH is E_SHAPE), and only then JSON.parse
 *   (failure is E_PARSE). XS's JSON.parse recurses on the native stack: deeply nested
 *   input aborts the whole VM and no try/catch can catch that, so the depth is counted
 *   by a flat scan of the text before the parser ever sees it. A payload whose bytes
 *   are not UTF-8 (it arrives as NOT_UTF8) is E_PARSE saying so; one the transport did
 *   not read (TOO_LARGE) is E_TOO_LARGE.
 * - The payload must be a JSON object (else E_SHAPE). Its `id`, when present, must be a
 *   non-empty string of at most MAX_ID bytes as the answer carries it (UTF-8, JSON
 *   escapes counted: a control character takes 6) or a finite number (else E_SHAPE, id
 *   null), so that every answer fits its limit with any valid id; `op` must be a string
 *   (else E_SHAPE, with the id). The op is not looked up here.
 * - Whatever could be read of the id is returned with every error, so it can be echoed.
 * Limits: a payload of exactly the character U+FFFD (bytes EF BF BD) cannot be told
 * from NOT_UTF8 and is answered as not UTF-8 (it is not JSON either way). The depth
 * scan treats anything between quotes as a string, exactly as JSON does; it does not
 * validate the JSON (the parser does that, once it is safe to).
 */

import { CommandError, ErrorCode, describe, utf8Length, type CommandId } from "./result";
import { exceedsDepth } from "../limits";
import { NOT_UTF8, TOO_LARGE } from "../ports";

export { exceedsDepth } from "../limits";

export const MAX_PAYLOAD_BYTES = 1024;
export const MAX_DEPTH = 4;
export const MAX_ID = 64;	// bytes of a string id inside its JSON quotes

export type CommandObject = Record<string, unknown>;

export interface ParsedCommand {
	id: CommandId;
	op: string | undefined;				// set when `error` is not
	args: CommandObject | undefined;	// the whole object, id and op included
	error: CommandError | undefined;
}

export function parseCommand(payload: string): ParsedCommand {
	// A UTF-16 unit is at least one UTF-8 byte, so a long string is too large uncounted.
	if (payload === TOO_LARGE || payload.length > MAX_PAYLOAD_BYTES || utf8Length(payload) > MAX_PAYLOAD_BYTES)
		return failed(null, ErrorCode.TooLarge, `payload exceeds ${MAX_PAYLOAD_BYTES} bytes`);
	if (exceedsDepth(payload, MAX_DEPTH))
		return failed(null, ErrorCode.Shape, `payload is nested deeper than ${MAX_DEPTH} levels`);
	if (payload === NOT_UTF8)
		return failed(null, ErrorCode.Parse, "payload is not valid UTF-8 (a command is JSON text in UTF-8)");
	let value: unknown;
	try {
		value = JSON.parse(payload);
	}
	catch {
		return failed(null, ErrorCode.Parse, "payload is not valid JSON");
	}
	if (typeof value !== "object" || value === null || Array.isArray(value))
		return failed(null, ErrorCode.Shape, `payload must be a JSON object, got ${describe(value)}`);
	const command = value as CommandObject;
	let id: CommandId = null;
	if (Object.hasOwn(command, "id")) {
		const raw = command.id;
		if (typeof raw === "string" && raw.length >= 1 && raw.length <= MAX_ID && utf8Length(JSON.stringify(raw)) - 2 <= MAX_ID)
			id = raw;
		else if (typeof raw === "number" && Number.isFinite(raw))
			id = raw;
		else
			return failed(null, ErrorCode.Shape, `id ${describe(raw)} must be a string of 1..${MAX_ID} bytes as JSON or a number`);
	}
	const op = Object.hasOwn(command, "op") ? command.op : undefined;
	if (typeof op !== "string")
		return failed(id, ErrorCode.Shape, `op must be a string, got ${describe(op)}`);
	return { id, op, args: command, error: undefined };
}

function failed(id: CommandId, code: ErrorCode, message: string): ParsedCommand {
	return { id, op: undefined, args: undefined, error: new CommandError(code, message) };
}
