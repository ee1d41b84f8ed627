/*
 * Config fields: the kinds of value a flat config key holds (text, integer in a range,
 * boolean, a name:pin map) and how one raw value is read against its field.
 *
 * - A value may arrive as a string (the mcconfig command line makes every value one):
 *   integers and booleans are parsed from it, a pin map from "led:2,relay:4".
 * - Absent, null or "" means the field's default; a value of the wrong kind or out of
 *   range is a problem naming the key and the value (quoted, cut at QUOTE characters),
 *   and the default is used so that every other key is still read.
 * - Pin names are 1..16 of a-z 0-9 _ starting with a letter; pins are GPIO 0..48.
 */

import { describe as quote } from "../describe";

export type RawConfig = Record<string, unknown>;

const QUOTE = 40;	// characters of an offending value quoted in a config problem
export const describe = (value: unknown) => quote(value, QUOTE);

const PIN_NAME_PATTERN = () => /^[a-z][a-z0-9_]{0,15}$/;	// made on each use: a preloaded RegExp crashes XS (README, notes on changing the firmware)

export interface TextField { kind: "text"; default: string }
export interface IntegerField { kind: "integer"; default: number; min: number; max: number; unit: string }
export interface PinsField { kind: "pins"; default: "" }
export interface BooleanField { kind: "boolean"; default: boolean }
export type Field = TextField | IntegerField | PinsField | BooleanField;

export const text = (fallback: string): TextField => ({ kind: "text", default: fallback });
export const integer = (fallback: number, min: number, max: number, unit: string): IntegerField => ({ kind: "integer", default: fallback, min, max, unit });
export const pins = (): PinsField => ({ kind: "pins", default: "" });
export const boolean = (fallback: boolean): BooleanField => ({ kind: "boolean", default: fallback });

/** The keys of `Fields` whose field is of kind `F`. */
type KeyOf<Fields, F> = { [K in keyof Fields]: Fields[K] extends F ? K : never }[keyof Fields] & string;

/** Reads each key of a raw config against its field, collecting every problem in `errors`. */
export class FieldReader<Fields extends Record<string, Field>> {
	readonly errors: string[] = [];
	constructor(private readonly raw: RawConfig, private readonly fields: Fields) {}

	string(key: KeyOf<Fields, TextField>): string {
		const fallback = (this.fields[key] as TextField).default;
		const value = this.raw[key];
		if (value === undefined || value === null)
			return fallback;
		if (typeof value === "number")
			return String(value);
		if (typeof value !== "string") {
			this.errors.push(`${key}: expected a string, got ${describe(value)}`);
			return fallback;
		}
		return value;
	}

	integer(key: KeyOf<Fields, IntegerField>): number {
		const { default: fallback, min, max, unit } = this.fields[key] as IntegerField;
		const value = this.raw[key];
		if (value === undefined || value === null || value === "")
			return fallback;
		const number = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
		if (!Number.isInteger(number)) {
			this.errors.push(`${key}: expected a whole number of ${unit}, got ${describe(value)}`);
			return fallback;
		}
		if (number < min || number > max) {
			this.errors.push(`${key}: ${number} ${unit} is outside ${min}..${max}`);
			return fallback;
		}
		return number;
	}

	boolean(key: KeyOf<Fields, BooleanField>): boolean {
		const fallback = (this.fields[key] as BooleanField).default;
		const value = this.raw[key];
		if (value === undefined || value === null || value === "")
			return fallback;
		if (value === true || value === "true" || value === 1 || value === "1")
			return true;
		if (value === false || value === "false" || value === 0 || value === "0")
			return false;
		this.errors.push(`${key}: expected true or false, got ${describe(value)}`);
		return fallback;
	}

	pinMap(key: KeyOf<Fields, PinsField>): Record<string, number> {
		const value = this.raw[key];
		const result: Record<string, number> = {};
		if (value === undefined || value === null || value === "")
			return result;
		let entries: [string, unknown][];
		if (typeof value === "string")
			entries = value.split(",").map(part => {
				const at = part.indexOf(":");
				return at < 0 ? [part.trim(), undefined] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
			});
		else if (typeof value === "object" && !Array.isArray(value))
			entries = Object.entries(value as Record<string, unknown>);
		else {
			this.errors.push(`${key}: expected "name:pin,..." or an object, got ${describe(value)}`);
			return result;
		}
		for (const [name, pin] of entries) {
			const number = typeof pin === "number" ? pin : typeof pin === "string" && /^\d+$/.test(pin) ? Number(pin) : NaN;
			if (!PIN_NAME_PATTERN().test(name))
				this.errors.push(`${key}: pin name ${describe(name)} must be lower-case letters, digits or _ (at most 16)`);
			else if (!Number.isInteger(number) || number < 0 || number > 48)
				this.errors.push(`${key}: pin ${describe(pin)} for "${name}" is not a GPIO number 0..48`);
			else if (Object.hasOwn(result, name))
				this.errors.push(`${key}: "${name}" is given twice`);
			else
				result[name] = number;
		}
		return result;
	}
}
