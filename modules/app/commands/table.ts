/*
 * Commands: the command table. Each op declares its arguments; a command is checked
 * against that declaration completely before its handler runs.
 *
 * - Arguments are named, typed ("string" with an optional length cap and pattern,
 *   "integer" with a range, "boolean", "level" = 0, 1, true or false) and required
 *   unless marked optional. A missing, extra or wrongly typed argument is E_SHAPE, a
 *   number outside its range or a string not in its format E_RANGE, an op not in the
 *   table E_OP (looked up as an own key: "constructor" is not an op).
 * - Handlers return the result fields; they signal failure by throwing CommandError,
 *   or a domain error named by its wire code: PinError (gpio.ts) through PIN_CODES,
 *   OtaRefused through the update feature's REFUSAL_CODES (updates/request.ts, the one
 *   table, shared with fleet releases). Anything else they throw is answered as
 *   E_INTERNAL, so no command can stop the device.
 * - execute() returns the finished result payload (see result.ts).
 * - telemetry.interval persists the period (config/settings.ts, read back at boot by the
 *   Device) before applying it. restart answers first and restarts RESTART_DELAY
 *   ms later, so the answer can leave the socket; stop() cancels a pending restart (the
 *   device that answered is gone: it must not restart whatever runs next).
 * - ota.start {url (https:, at most URL_MAX characters), model (the board model), sha256 (64 hex digits, any
 *   case, passed on lower case), version (1..32 of 0-9 A-Z a-z . + -), size (bytes),
 *   signature? (a string: its absence or format is Ota's "signature" refusal), force?}
 *   is handed to `startOta` (Ota.start's refusals: E_UNAVAILABLE, E_BUSY,
 *   E_MODEL, E_SIGNATURE, E_VERSION); ota.cancel {} to `cancelOta` (Ota.cancel's refusals:
 *   E_IDLE, E_BUSY, E_UNAVAILABLE); release.install {} to `installRelease` (the latest
 *   fleet release now: E_IDLE without one, E_VERSION, and Ota.start's refusals).
 */

import type { Log, Storage, TimerHandle, Timers } from "../ports";
import { frozen } from "../frozen";
import { CommandError, ErrorCode, describe, errorResult, okResult, type CommandId, type ResultFields } from "./result";
import type { CommandObject } from "./parse";
import { PinError, PinFault, type Gpio, type Level } from "./gpio";
import { HTTPS_URL, MODEL, MODEL_MAX, OtaRefused, REFUSAL_CODES, SHA256_HEX, SIZE_MAX, URL_MAX, VERSION, type OtaCancelled, type OtaRequest, type OtaStarted } from "../updates/request";
import { INTERVAL_MAX, INTERVAL_MIN, storeInterval } from "../config/settings";

export interface CommandsOptions {
	gpio: Gpio;
	storage: Storage;
	timers: Timers;
	log: Log;
	/** Diagnostics for the status op. */
	status(): ResultFields;
	/** Applies a new sampling period now. */
	setInterval(ms: number): void;
	/** Restarts the app/board; undefined where the platform cannot (restart is then E_UNAVAILABLE). */
	restart: ((reason: string) => void) | undefined;
	/** Starts an update (answers at once) or throws CommandError. */
	startOta(request: OtaRequest): OtaStarted;
	/** Cancels the running update or throws OtaRefused (idle, busy, unavailable). */
	cancelOta(): OtaCancelled;
	/** Installs the latest fleet release now, or throws OtaRefused; undefined: no releases (E_UNAVAILABLE). */
	installRelease?(): OtaStarted;
}

type ArgSpec =
	| { type: "string"; optional?: boolean; max?: number; pattern?: () => RegExp; format?: string }
	| { type: "boolean"; optional?: boolean }
	| { type: "level"; optional?: boolean }
	| { type: "integer"; min: number; max: number; optional?: boolean };

type ArgValue = string | number | boolean | undefined;
type Args = Record<string, ArgValue>;

interface Op {
	args: Record<string, ArgSpec>;
	run(commands: Commands, args: Args): ResultFields;
}

const PIN: ArgSpec = Object.freeze({ type: "string" });

export const PULSE_MIN = 1;
export const PULSE_MAX = 60_000;
export const RESTART_DELAY = 500;	// ms between the answer and the restart

/** The wire code of each refusal the pin logic reports (the update feature's: REFUSAL_CODES). */
const PIN_CODES: Readonly<Record<PinFault, ErrorCode>> = Object.freeze({
	[PinFault.Unknown]: ErrorCode.Pin,
	[PinFault.Busy]: ErrorCode.Busy,
	[PinFault.WriteFailed]: ErrorCode.Internal,
});

/** A handler's failure as a command error, or undefined for an unexpected one. */
function commandError(error: unknown): CommandError | undefined {
	if (error instanceof CommandError)
		return error;
	if (error instanceof PinError)
		return new CommandError(PIN_CODES[error.fault], error.message);
	if (error instanceof OtaRefused)
		return new CommandError(REFUSAL_CODES[error.refusal], error.message);
	return undefined;
}

export class Commands {
	// The table is static: built once when the module loads (preloaded and frozen: in
	// flash on a board), so a Commands instance keeps only its options, not ~180 slots of table.
	static readonly #ops: Readonly<Record<string, Op>> = frozen({
		"gpio.set": {
			args: { pin: PIN, value: { type: "level" } },
			run: (c, a) => ({ pin: a.pin as string, value: c.#o.gpio.set(a.pin as string, a.value as Level) }),
		},
		"gpio.toggle": {
			args: { pin: PIN },
			run: (c, a) => ({ pin: a.pin as string, value: c.#o.gpio.toggle(a.pin as string) }),
		},
		"gpio.pulse": {
			args: { pin: PIN, ms: { type: "integer", min: PULSE_MIN, max: PULSE_MAX } },
			run: (c, a) => ({ pin: a.pin as string, value: c.#o.gpio.pulse(a.pin as string, a.ms as number), ms: a.ms as number }),
		},
		"gpio.get": {
			args: { pin: { type: "string", optional: true } },
			run: (c, a): ResultFields => a.pin === undefined ? { gpio: c.#o.gpio.snapshot() } : { pin: a.pin, value: c.#o.gpio.get(a.pin as string) },
		},
		"telemetry.interval": {
			args: { ms: { type: "integer", min: INTERVAL_MIN, max: INTERVAL_MAX } },
			run: (c, a) => c.#interval(a.ms as number),
		},
		"status": { args: {}, run: c => c.#o.status() },
		"restart": { args: {}, run: c => c.#restart() },
		"ota.start": {
			args: {
				url: { type: "string", max: URL_MAX, pattern: HTTPS_URL, format: `an https: URL of at most ${URL_MAX} characters` },
				model: { type: "string", max: MODEL_MAX, pattern: MODEL, format: `a board model (levels of A-Z a-z 0-9 _ . - separated by /, at most ${MODEL_MAX} characters)` },
				sha256: { type: "string", pattern: SHA256_HEX, format: "64 hex digits" },
				version: { type: "string", pattern: VERSION, format: "1..32 characters of 0-9 A-Z a-z . + -" },
				size: { type: "integer", min: 1, max: SIZE_MAX },
				signature: { type: "string", optional: true },
				force: { type: "boolean", optional: true },
			},
			run: (c, a) => c.#o.startOta({
				url: a.url as string,
				model: a.model as string,
				sha256: (a.sha256 as string).toLowerCase(),
				version: a.version as string,
				size: a.size as number,
				signature: a.signature as string | undefined,
				force: a.force === true,
			}),
		},
		"ota.cancel": { args: {}, run: c => c.#o.cancelOta() },
		"release.install": { args: {}, run: c => c.#installRelease() },
	});
	#restarting = false;
	#restartTimer: TimerHandle | undefined;
	readonly #o: CommandsOptions;

	constructor(options: CommandsOptions) {
		this.#o = options;
	}

	/** The device stops: a restart that was answered but has not happened yet is dropped. */
	stop(): void {
		this.#o.timers.clear(this.#restartTimer);
		this.#restartTimer = undefined;
	}

	/** Validates and runs one parsed command; returns its result payload. */
	execute(id: CommandId, op: string, command: CommandObject): string {
		try {
			const entry = Object.hasOwn(Commands.#ops, op) ? Commands.#ops[op] : undefined;
			if (!entry)
				throw new CommandError(ErrorCode.Op, `unknown op ${describe(op)}`);
			return okResult(id, entry.run(this, validate(entry.args, command)));
		}
		catch (error) {
			const refused = commandError(error);
			if (refused)
				return errorResult(id, refused.code, refused.message);
			this.#o.log(`commands: ${op} failed: ${error}`);
			return errorResult(id, ErrorCode.Internal, `${op} failed: ${String(error).slice(0, 80)}`);
		}
	}

	#interval(ms: number): ResultFields {
		// Persist first: an interval that is applied but lost at the next boot would surprise.
		storeInterval(this.#o.storage, ms);
		this.#o.setInterval(ms);
		return { interval: ms };
	}

	#installRelease(): ResultFields {
		if (!this.#o.installRelease)
			throw new CommandError(ErrorCode.Unavailable, "fleet releases need a board model (config model)");
		return this.#o.installRelease();
	}

	#restart(): ResultFields {
		const restart = this.#o.restart;
		if (!restart)
			throw new CommandError(ErrorCode.Unavailable, "restart is not available on this platform");
		if (this.#restarting)
			throw new CommandError(ErrorCode.Busy, "a restart is already under way");
		this.#restarting = true;
		this.#o.log(`commands: restarting in ${RESTART_DELAY} ms`);
		this.#restartTimer = this.#o.timers.set(() => {
			this.#restartTimer = undefined;
			restart("restart");
		}, RESTART_DELAY);
		return { restarting: true, delay: RESTART_DELAY };
	}
}

/** Checks a command against an op's declared arguments; throws E_SHAPE or E_RANGE. */
function validate(specs: Record<string, ArgSpec>, command: CommandObject): Args {
	for (const key of Object.keys(command))
		if (key !== "id" && key !== "op" && !Object.hasOwn(specs, key))
			throw new CommandError(ErrorCode.Shape, `unexpected argument ${describe(key)}`);
	const args: Args = {};
	for (const [name, spec] of Object.entries(specs)) {
		const value = Object.hasOwn(command, name) ? command[name] : undefined;
		if (value === undefined) {
			if (!spec.optional)
				throw new CommandError(ErrorCode.Shape, `missing argument "${name}"`);
			continue;
		}
		args[name] = check(name, spec, value);
	}
	return args;
}

function check(name: string, spec: ArgSpec, value: unknown): string | number | boolean {
	switch (spec.type) {
		case "string":
			if (typeof value !== "string")
				throw new CommandError(ErrorCode.Shape, `${name} must be a string, got ${describe(value)}`);
			if ((spec.max !== undefined && value.length > spec.max) || (spec.pattern && !spec.pattern().test(value)))
				throw new CommandError(ErrorCode.Range, `${name} ${describe(value)} is not ${spec.format ?? "valid"}`);
			return value;
		case "boolean":
			if (typeof value !== "boolean")
				throw new CommandError(ErrorCode.Shape, `${name} must be true or false, got ${describe(value)}`);
			return value;
		case "level":
			if (value === true || value === 1)
				return 1;
			if (value === false || value === 0)
				return 0;
			throw new CommandError(typeof value === "number" ? ErrorCode.Range : ErrorCode.Shape, `${name} must be 0, 1, true or false, got ${describe(value)}`);
		case "integer":
			if (typeof value !== "number")
				throw new CommandError(ErrorCode.Shape, `${name} must be a number, got ${describe(value)}`);
			if (!Number.isInteger(value) || value < spec.min || value > spec.max)
				throw new CommandError(ErrorCode.Range, `${name} ${describe(value)} is not a whole number in ${spec.min}..${spec.max}`);
			return value;
	}
}
