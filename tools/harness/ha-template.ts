/*
 * renderTemplate: evaluates the few Home Assistant (Jinja) value templates the
 * discovery message uses, as Home Assistant would, so tests can play Home Assistant.
 *
 * - Understands `{{ <path> }}` and `{{ 'a' if <path> else 'b' }}`, where <path> is
 *   `value_json` followed by `.name` or `['name']` steps.
 * - Renders like Jinja: numbers as Python prints them (1, 21.5), booleans as True and
 *   False, a missing key as "" (undefined renders empty).
 * - Anything else throws: a template this cannot read is a template the test should
 *   look at, not silently pass.
 */

const PATH = /^value_json((?:\.[A-Za-z_]\w*|\['[^']*'\])*)$/;
const STEP = /\.([A-Za-z_]\w*)|\['([^']*)'\]/g;
const CONDITIONAL = /^'([^']*)' if (\S+) else '([^']*)'$/;

export function renderTemplate(template: string, payload: string): string {
	const match = /^\{\{\s*(.*?)\s*\}\}$/.exec(template);
	if (!match)
		throw new Error(`not a template this helper reads: ${template}`);
	const value = JSON.parse(payload) as unknown;
	const conditional = CONDITIONAL.exec(match[1]);
	if (conditional)
		return truthy(lookup(conditional[2], value)) ? conditional[1] : conditional[3];
	return render(lookup(match[1], value));
}

function lookup(path: string, root: unknown): unknown {
	const match = PATH.exec(path);
	if (!match)
		throw new Error(`not a value_json path: ${path}`);
	let value = root;
	for (const step of match[1].matchAll(STEP)) {
		const key = step[1] ?? step[2];
		value = typeof value === "object" && value !== null && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
	}
	return value;
}

function truthy(value: unknown): boolean {
	return !(value === undefined || value === null || value === false || value === 0 || value === "");
}

function render(value: unknown): string {
	if (value === undefined || value === null)
		return value === null ? "None" : "";
	if (typeof value === "boolean")
		return value ? "True" : "False";
	return String(value);
}
