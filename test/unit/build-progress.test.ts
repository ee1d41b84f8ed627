/*
 * The first simulator build shows progress (issue 21, defect 7): a line every 10 s
 * with the time and the steps so far, then how long it took.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildProgress } from "../../tools/build-progress";

test("build progress: a line every 10 s with the steps, then the total", () => {
	let now = 0;
	const progress = new BuildProgress({ first: true, now: () => now });
	assert.match(progress.opening, /about 270 steps, 2 minutes/);
	progress.feed("# xsc main.xsb\n# tsc\nsome compiler warning\n");
	now = 9_999;
	assert.equal(progress.tick(), undefined);
	now = 10_000;
	progress.feed("# issue-21 instrument : cc xsAll.c\n# cc xsPlatform.c\n");
	assert.equal(progress.tick(), "build: 10 s, 4 steps, now cc xsPlatform.c");
	assert.equal(progress.tick(), undefined, "not again before another 10 s");
	now = 95_000;
	progress.feed("# xsl modules\n# ld mc.so\n");
	assert.equal(progress.tick(), "build: 95 s, 6 steps, now ld mc.so");
	assert.equal(progress.done(), "build: done in 95 s (6 steps)");
	assert.doesNotMatch(new BuildProgress({ first: false }).opening, /minutes/);
});
