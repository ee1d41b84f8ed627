/*
 * describe: how error messages quote an offending value, the same way everywhere
 * (config problems, command errors): strings quoted and cut at `max` characters,
 * objects named by kind, never dumped.
 */

export function describe(value: unknown, max = 32): string {
	if (typeof value === "string")
		return JSON.stringify(value.length > max ? value.slice(0, max) + "..." : value);
	if (value === null)
		return "null";
	if (Array.isArray(value))
		return "an array";
	if (typeof value === "object")
		return "an object";
	if (value === undefined)
		return "nothing";
	return String(value).slice(0, max);
}
