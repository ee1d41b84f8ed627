/*
 * No RegExp is made while the firmware's modules are preloaded (issue 18, defect 0).
 *
 * - Why: XS (SDK 8.2.3, xs/sources/xsre.c fxAllocateRegExpData) gives a preloaded
 *   RegExp's match data malloc'ed memory that the collector then marks and moves as a
 *   chunk of its own heap: a collection during exec() or test() on such a RegExp
 *   corrupts the heap and the next use of that data segfaults (mcsim died on the
 *   ota.start after a failed update). A RegExp made at run time is safe.
 * - So a regular expression literal, or `new RegExp`, may appear in modules/ and
 *   main.ts only inside a function (made on each call), never at module level or in a
 *   static initializer, which run while preloading.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import ts from "typescript";
import { ROOT, firmwareSources } from "./support/firmware-sources";

/** True when `node` runs only when a function is called (not while the module loads). */
function insideFunction(node: ts.Node): boolean {
	for (let at = node.parent; at; at = at.parent) {
		if (ts.isFunctionLike(at))
			return true;
		if (ts.isPropertyDeclaration(at) && !at.modifiers?.some(modifier => modifier.kind === ts.SyntaxKind.StaticKeyword))
			return true;	// an instance field: set by the constructor
	}
	return false;
}

/** "file:line regexp" for each RegExp the module makes while it loads. */
export function moduleLevelRegExps(path: string, text = readFileSync(path, "utf8")): string[] {
	const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
	const found: string[] = [];
	const visit = (node: ts.Node) => {
		const makes = ts.isRegularExpressionLiteral(node)
			|| ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === "RegExp");
		if (makes && !insideFunction(node))
			found.push(`${relative(ROOT, path)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText().slice(0, 40)}`);
		ts.forEachChild(node, visit);
	};
	visit(file);
	return found;
}

test("preloaded regexp: the check finds a module-level literal and accepts one inside a function", () => {
	assert.equal(moduleLevelRegExps("a.ts", "const A = /^a$/;\nexport const B = { c: new RegExp(\"b\") };").length, 2);
	assert.deepEqual(moduleLevelRegExps("b.ts", "const A = () => /^a$/;\nfunction b() { return /b/.test(\"b\"); }\nclass C { d = /d/; }"), []);
	assert.equal(moduleLevelRegExps("c.ts", "class C { static d = /d/; }").length, 1);
});

test("preloaded regexp: modules/ and main.ts make no RegExp at module level", () => {
	const found = firmwareSources().flatMap(path => moduleLevelRegExps(path));
	assert.deepEqual(found, []);
});
