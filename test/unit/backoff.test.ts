import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "../../modules/app/connection/backoff";
import { scriptedRandom } from "./support/fakes";

const ALMOST_ONE = 1 - 2 ** -53;	// the largest double below 1

test("backoff: a draw of 0 gives a wait of 0", () => {
	const backoff = new Backoff({ min: 1_000, max: 60_000, random: scriptedRandom([0]) });
	assert.equal(backoff.next(), 0);
});

test("backoff: the largest draw stays strictly below the ceiling", () => {
	const backoff = new Backoff({ min: 1_000, max: 60_000, random: scriptedRandom([ALMOST_ONE]) });
	const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
	for (const ceiling of ceilings) {
		assert.equal(backoff.ceiling, ceiling);
		assert.equal(backoff.next(), ceiling - 1);
	}
});

test("backoff: a draw of 0.5 lands in the middle of the window", () => {
	const backoff = new Backoff({ min: 1_000, max: 60_000, random: scriptedRandom([0.5]) });
	assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [500, 1_000, 2_000]);
});

test("backoff: every Math.random draw is a whole number in [0, ceiling)", () => {
	const backoff = new Backoff({ min: 100, max: 10_000, random: Math.random });
	for (let i = 0; i < 2_000; i++) {
		const ceiling = backoff.ceiling;
		const wait = backoff.next();
		assert.ok(Number.isInteger(wait), `draw ${i}: ${wait} is not whole`);
		assert.ok(wait >= 0 && wait < ceiling, `draw ${i}: ${wait} outside [0, ${ceiling})`);
	}
});

test("backoff: the ceiling doubles from min to max and stays at max", () => {
	const backoff = new Backoff({ min: 1_000, max: 60_000, random: Math.random, jitter: false });
	const waits = Array.from({ length: 10 }, () => backoff.next());
	assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
	assert.equal(backoff.attempt, 10);
});

test("backoff: the ceiling starts at min, not at max", () => {
	const backoff = new Backoff({ min: 250, max: 60_000, random: Math.random });
	assert.equal(backoff.ceiling, 250);
	assert.equal(backoff.attempt, 0);
});

test("backoff: jitter:false returns the ceiling and never calls random", () => {
	const random = scriptedRandom([0.1]);
	const backoff = new Backoff({ min: 500, max: 1_500, random, jitter: false });
	assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [500, 1_000, 1_500]);
	assert.equal(random.calls, 0);
});

test("backoff: jitter (the default) calls random once per draw", () => {
	const random = scriptedRandom([0.1]);
	const backoff = new Backoff({ min: 500, max: 1_500, random });
	backoff.next();
	backoff.next();
	assert.equal(random.calls, 2);
});

test("backoff: reset() returns the window to min", () => {
	const backoff = new Backoff({ min: 1_000, max: 60_000, random: Math.random, jitter: false });
	for (let i = 0; i < 5; i++)
		backoff.next();
	assert.equal(backoff.ceiling, 32_000);
	backoff.reset();
	assert.equal(backoff.attempt, 0);
	assert.equal(backoff.ceiling, 1_000);
	assert.equal(backoff.next(), 1_000);
	assert.equal(backoff.next(), 2_000);
});

test("backoff: without reset() the window keeps its width", () => {
	const backoff = new Backoff({ min: 1_000, max: 60_000, random: Math.random, jitter: false });
	for (let i = 0; i < 3; i++)
		backoff.next();
	assert.equal(backoff.next(), 8_000);
});

test("backoff: 1000 jittered draws fill the whole window", () => {
	const backoff = new Backoff({ min: 8_000, max: 8_000, random: Math.random });
	const waits = Array.from({ length: 1_000 }, () => backoff.next());
	const ceiling = 8_000;
	assert.ok(Math.min(...waits) < 0.1 * ceiling, `smallest wait ${Math.min(...waits)} not below 10% of ${ceiling}`);
	assert.ok(Math.max(...waits) > 0.9 * ceiling, `largest wait ${Math.max(...waits)} not above 90% of ${ceiling}`);
	assert.ok(new Set(waits).size > 500, "draws are not spread");
});

test("backoff: huge attempt counts stay finite and at the cap", () => {
	const backoff = new Backoff({ min: 1_000, max: 3_600_000, random: scriptedRandom([ALMOST_ONE]) });
	for (let i = 0; i < 100_000; i++)
		backoff.next();
	assert.equal(backoff.attempt, 100_000);
	assert.equal(backoff.ceiling, 3_600_000);
	assert.equal(backoff.next(), 3_599_999);
});

test("backoff: huge attempt counts stay finite even with an unbounded max", () => {
	const backoff = new Backoff({ min: 1_000, max: Infinity, random: Math.random, jitter: false });
	for (let i = 0; i < 5_000; i++)
		assert.ok(Number.isFinite(backoff.next()), `attempt ${i} gave a non-finite wait`);
	assert.ok(Number.isFinite(backoff.ceiling));
});
