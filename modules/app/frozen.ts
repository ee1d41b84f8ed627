/*
 * frozen: Object.freeze of a table and of every plain object and array in it.
 *
 * - Why: a preloaded module's objects stay in flash, costing no RAM, only when they are
 *   frozen (the SDK's "XS linker warnings"); XS's own Object.freeze(o, true) freezes
 *   deeply, but neither Node nor TypeScript's declarations know that second argument.
 * - Functions, regular expressions and other built-in objects are left as they are.
 */

export function frozen<T extends object>(table: T): Readonly<T> {
	for (const value of Object.values(table))
		if (value !== null && typeof value === "object" && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype))
			frozen(value);
	return Object.freeze(table);
}
