/*
 * bench/README.md's tables are generated from the newest result under bench/results/
 * (bench/tables.ts); a table left behind when a newer result is committed fails here.
 * Fix: `npm run bench -- --tables`.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { currentBlock, loadResults, renderBlock, replaceBlock, RESULTS_BEGIN, RESULTS_END, type BenchResult } from "../../bench/tables";

const RESULTS = fileURLToPath(new URL("../../bench/results/", import.meta.url));
const readme = readFileSync(new URL("../../bench/README.md", import.meta.url), "utf8");
const all = loadResults(RESULTS);

test("bench/README.md's tables are those of the newest committed result", () => {
	const block = currentBlock(readme);
	assert.ok(block, "bench/README.md has no generated tables block");
	assert.equal(block, renderBlock(all), `bench/README.md's tables are not those of bench/results/${all.at(-1)?.file}: run \`npm run bench -- --tables\``);
});

test("the tables name the commit of the newest result, and a newer result makes them stale", () => {
	const newest = all.at(-1)!.result;
	const sha = "0123456789abcdef0123456789abcdef01234567";
	const newer: BenchResult = {
		...newest, date: "2999-01-01T00:00:00.000Z", commit: { sha, subject: "a later change", dirty: false, changed: [] },
		load: { start: 1, max: 2, end: 1, cpus: 2 }, durationSeconds: 600, phases: [{ phase: "builds", seconds: 60 }],
	};
	const block = renderBlock([...all, { file: "2999-01-01T0000Z-test.json", result: newer }]);
	assert.match(block, /commit `0123456789ab` \("a later change"\), clean tree/);
	assert.match(block, /bench\/results\/2999-01-01T0000Z-test\.json/);
	assert.notEqual(block, currentBlock(readme), "a newer result must change the tables");
	const dirty = renderBlock([{ file: "x.json", result: { ...newer, commit: { sha, subject: "s", dirty: true, changed: ["main.ts"] } } }]);
	assert.match(dirty, /with uncommitted changes to main\.ts/);
});

test("every result saved since results record provenance names its commit, SDK and load", () => {
	for (const { file, result } of all.filter(({ result }) => result.phases !== undefined)) {
		assert.match(result.commit?.sha ?? "", /^[0-9a-f]{40}$/, `${file}: no commit`);
		assert.equal(typeof result.commit?.dirty, "boolean", `${file}: dirty not recorded`);
		assert.ok(result.sdk && result.sdk !== "unknown", `${file}: no SDK version`);
		assert.ok(result.load && result.load.max >= result.load.start, `${file}: no load average`);
	}
});

test("replaceBlock rewrites only the generated block", () => {
	const text = `# Title\n\n${RESULTS_BEGIN}\nold\n${RESULTS_END}\n\n## After\n`;
	const replaced = replaceBlock(text, `${RESULTS_BEGIN}\nnew\n${RESULTS_END}`);
	assert.equal(replaced, `# Title\n\n${RESULTS_BEGIN}\nnew\n${RESULTS_END}\n\n## After\n`);
	assert.throws(() => replaceBlock("# no markers\n", "x"), /markers/);
});
