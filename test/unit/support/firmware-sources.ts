/*
 * The firmware's TypeScript sources: every .ts under modules/ (not .d.ts) and main.ts.
 * Shared by the checks that read the sources rather than run them (no-enum,
 * preloaded-regexp).
 */

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function sources(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
		const path = join(dir, entry.name);
		if (entry.isDirectory())
			return sources(path);
		return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
	});
}

/** Absolute paths of the firmware's sources. */
export function firmwareSources(): string[] {
	return [...sources(join(ROOT, "modules")), join(ROOT, "main.ts")];
}
