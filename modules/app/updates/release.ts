/*
 * Release: one fleet release as a device reads it, and the two numbers that stage a
 * rollout (which devices, and when).
 *
 * - releaseTopic(fleetPrefix, model): `<fleetPrefix>/<model>/release`, the model's `/`
 *   written as `-` (one topic level per model: `sim/moddable_two` is
 *   `fleet/sim-moddable_two/release`).
 * - parseRelease(payload): the retained message checked completely, cheapest first:
 *   size (over RELEASE_MAX bytes, or TOO_LARGE: not even read: E_TOO_LARGE), nesting (anything deeper than the one
 *   object: E_SHAPE, counted before JSON.parse, which aborts XS on deep input), JSON
 *   (E_PARSE), then each field: missing or of the wrong type E_SHAPE, out of its format
 *   or range E_RANGE (rollout a whole 0..100). Fields it does not know are ignored, so
 *   a later tool may add some. The signature and the model are the caller's to check.
 * - bucketOf(deviceId): the device's place in a rollout, 0..99, the same on every boot
 *   and every platform (FNV-1a over the id's UTF-16 code units, mod 100). A device
 *   takes part when bucketOf(id) < rollout: rollout 10 is about a tenth of a fleet, and
 *   raising it only adds devices.
 * - releaseDelay(window, random): whole ms in 0..window-1 (0 for a window of 0): the
 *   wait before a device fetches, spread so that a fleet does not hit the server at once.
 * Limits: buckets are only as even as the ids are varied; a fleet of ten shows it.
 */

import { MAX_RECEIVE, exceedsDepth, utf8Length } from "../limits";
import { TOO_LARGE } from "../ports";
import { HTTPS_URL, MODEL, MODEL_MAX, SHA256_HEX, SIGNATURE_MAX, SIZE_MAX, URL_MAX, VERSION } from "./request";

export const RELEASE_MAX = 1024;	// bytes of a release message
export const BUCKETS = 100;

/**
 * Why a release message cannot be read: the `error.code` of an "ignored" report on the
 * ota topic. A release that reads well but is refused (model, signature, version, busy)
 * is named by the refusal's code (request.ts REFUSAL_CODES), as ota.start is. A frozen
 * object rather than a TypeScript enum, so a preloaded image keeps it in flash.
 */
export const ReleaseFault = Object.freeze({
	TooLarge: "E_TOO_LARGE",
	Parse: "E_PARSE",
	Shape: "E_SHAPE",
	Range: "E_RANGE",
});
export type ReleaseFault = typeof ReleaseFault[keyof typeof ReleaseFault];

export interface Release {
	model: string;
	version: string;
	size: number;
	sha256: string;		// lower case
	url: string;
	signature: string;
	rollout: number;	// percent of the fleet's buckets, 0..100
}

export interface ReleaseProblem {
	fault: ReleaseFault;
	message: string;
	version: string | null;	// when it could be read
}

export function releaseTopic(fleetPrefix: string, model: string): string {
	return `${fleetPrefix}/${model.split("/").join("-")}/release`;
}

export function bucketOf(deviceId: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < deviceId.length; i++)
		hash = Math.imul(hash ^ deviceId.charCodeAt(i), 0x01000193);
	return (hash >>> 0) % BUCKETS;
}

export function releaseDelay(window: number, random: () => number): number {
	return window > 0 ? Math.min(window - 1, Math.floor(random() * window)) : 0;
}

type Check = { kind: "string"; pattern: () => RegExp; max: number; format: string } | { kind: "integer"; min: number; max: number };

const FIELDS: Readonly<Record<keyof Release, Check>> = Object.freeze({
	model: Object.freeze({ kind: "string", pattern: MODEL, max: MODEL_MAX, format: "a board model" }) as Check,
	version: Object.freeze({ kind: "string", pattern: VERSION, max: 32, format: "1..32 of 0-9 A-Z a-z . + -" }) as Check,
	size: Object.freeze({ kind: "integer", min: 1, max: SIZE_MAX }) as Check,
	sha256: Object.freeze({ kind: "string", pattern: SHA256_HEX, max: 64, format: "64 hex digits" }) as Check,
	url: Object.freeze({ kind: "string", pattern: HTTPS_URL, max: URL_MAX, format: `an https: URL of at most ${URL_MAX} characters` }) as Check,
	signature: Object.freeze({ kind: "string", pattern: () => /^[A-Za-z0-9+/=]+$/, max: SIGNATURE_MAX, format: "base64" }) as Check,
	rollout: Object.freeze({ kind: "integer", min: 0, max: 100 }) as Check,
});

export function parseRelease(payload: string): Release | ReleaseProblem {
	if (payload === TOO_LARGE)
		return problem(ReleaseFault.TooLarge, `over ${MAX_RECEIVE} bytes, not read`, null);
	if (payload.length > RELEASE_MAX || utf8Length(payload) > RELEASE_MAX)
		return problem(ReleaseFault.TooLarge, `${utf8Length(payload)} bytes, at most ${RELEASE_MAX}`, null);
	if (exceedsDepth(payload, 1))
		return problem(ReleaseFault.Shape, "nested deeper than one object", null);
	let value: unknown;
	try {
		value = JSON.parse(payload);
	}
	catch {
		return problem(ReleaseFault.Parse, "not valid JSON", null);
	}
	if (typeof value !== "object" || value === null || Array.isArray(value))
		return problem(ReleaseFault.Shape, "not a JSON object", null);
	const raw = value as Record<string, unknown>;
	const version = typeof raw.version === "string" && VERSION().test(raw.version) ? raw.version : null;
	const release: Record<string, string | number> = {};
	for (const name of Object.keys(FIELDS) as (keyof Release)[]) {
		const check = FIELDS[name];
		const field = Object.hasOwn(raw, name) ? raw[name] : undefined;
		if (field === undefined)
			return problem(ReleaseFault.Shape, `missing field "${name}"`, version);
		if (check.kind === "string") {
			if (typeof field !== "string")
				return problem(ReleaseFault.Shape, `${name} must be a string`, version);
			if (field.length > check.max || !check.pattern().test(field))
				return problem(ReleaseFault.Range, `${name} is not ${check.format}`, version);
		}
		else {
			if (typeof field !== "number")
				return problem(ReleaseFault.Shape, `${name} must be a number`, version);
			if (!Number.isInteger(field) || field < check.min || field > check.max)
				return problem(ReleaseFault.Range, `${name} ${field} is not a whole number in ${check.min}..${check.max}`, version);
		}
		release[name] = field;
	}
	release.sha256 = (release.sha256 as string).toLowerCase();
	return release as unknown as Release;
}

export function isProblem(result: Release | ReleaseProblem): result is ReleaseProblem {
	return Object.hasOwn(result, "fault");
}

function problem(fault: ReleaseFault, message: string, version: string | null): ReleaseProblem {
	return { fault, message, version };
}
