/*
 * No TypeScript `enum` in the firmware's modules (issue 19).
 *
 * - Why: tsc compiles an enum to an object filled in at load time, which XS's linker
 *   cannot freeze: on a board each one stays in RAM, and xsl warns "not frozen" (the
 *   esp32 XS build test fails on it, but only where an SDK is installed). A frozen
 *   object literal plus a union type does the same job and stays in flash.
 * - This check runs everywhere, so CI catches an enum without the SDK.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import ts from "typescript";
import { ROOT, firmwareSources } from "./support/firmware-sources";

/** "file:line name" for each enum declared in the text. */
export function enums(path: string, text = readFileSync(path, "utf8")): string[] {
	const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
	const found: string[] = [];
	const visit = (node: ts.Node) => {
		if (ts.isEnumDeclaration(node))
			found.push(`${relative(ROOT, path)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.name.text}`);
		ts.forEachChild(node, visit);
	};
	visit(file);
	return found;
}

test("no enum: the check finds an exported and a nested enum, and passes a frozen object", () => {
	assert.equal(enums("a.ts", "export enum A { X = \"x\" }\nfunction f() { enum B { Y } return B.Y; }").length, 2);
	assert.deepEqual(enums("b.ts", "export const A = Object.freeze({ X: \"x\" });\nexport type A = typeof A[keyof typeof A];"), []);
});

test("no enum in modules/ or main.ts", () => {
	const found = firmwareSources().flatMap(path => enums(path));
	assert.deepEqual(found, [], "use a frozen object and a union type instead");
});
