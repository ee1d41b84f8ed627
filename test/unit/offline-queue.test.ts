import { test } from "node:test";
import assert from "node:assert/strict";
import { OfflineQueue } from "../../modules/app/connection/offline-queue";

/** Hands out up to `count` unsent entries the way telemetry does: peek, then mark sent. */
function take(queue: OfflineQueue<string>, count: number): string[] {
	const taken = queue.peekUnsent(count);
	queue.markSent(taken.length);
	return taken;
}

function filled(capacity: number, keys: number[]): OfflineQueue<string> {
	const queue = new OfflineQueue<string>(capacity);
	for (const key of keys)
		queue.push(key, `r${key}`);
	return queue;
}

test("queue: entries come out in insertion order", () => {
	const queue = filled(10, [1, 2, 3, 4, 5]);
	assert.deepEqual(take(queue, 10), ["r1", "r2", "r3", "r4", "r5"]);
});

test("queue: peekUnsent + markSent hand out at most `count` and continue where they stopped", () => {
	const queue = filled(10, [1, 2, 3, 4, 5]);
	assert.deepEqual(take(queue, 2), ["r1", "r2"]);
	assert.equal(queue.unsent, 3);
	assert.deepEqual(take(queue, 2), ["r3", "r4"]);
	assert.deepEqual(take(queue, 2), ["r5"]);
	assert.deepEqual(take(queue, 2), []);
	assert.equal(queue.length, 5, "taken entries stay until confirmed");
});

test("queue: below capacity nothing is dropped", () => {
	const queue = filled(3, [1, 2, 3]);
	assert.equal(queue.length, 3);
	assert.equal(queue.dropped, 0);
});

test("queue: a full queue drops the oldest entry and counts it", () => {
	const queue = filled(3, [1, 2, 3, 4, 5]);
	assert.equal(queue.length, 3);
	assert.equal(queue.dropped, 2);
	assert.deepEqual(take(queue, 10), ["r3", "r4", "r5"]);
});

test("queue: capacity 1 keeps only the newest", () => {
	const queue = filled(1, [1, 2, 3]);
	assert.equal(queue.dropped, 2);
	assert.deepEqual(take(queue, 5), ["r3"]);
});

test("queue: the constructor rejects a capacity below 1", () => {
	for (const capacity of [0, -1, 0.5, NaN])
		assert.throws(() => new OfflineQueue(capacity), RangeError, `capacity ${capacity}`);
});

test("queue: the constructor error names the offending capacity", () => {
	assert.throws(() => new OfflineQueue(0), /capacity 0/);
});

test("queue: confirm(key) forgets sent entries up to and including key", () => {
	const queue = filled(10, [1, 2, 3, 4]);
	take(queue, 3);
	queue.confirm(2);
	assert.equal(queue.length, 2);
	assert.equal(queue.lastSentKey, 3);
	queue.rewind();
	assert.deepEqual(take(queue, 10), ["r3", "r4"]);
});

test("queue: confirm never forgets an entry that was not sent", () => {
	const queue = filled(10, [1, 2, 3, 4]);
	take(queue, 2);
	queue.confirm(99);
	assert.equal(queue.length, 2);
	assert.equal(queue.unsent, 2);
	assert.deepEqual(take(queue, 10), ["r3", "r4"]);
});

test("queue: confirm below the oldest key changes nothing", () => {
	const queue = filled(10, [5, 6]);
	take(queue, 2);
	queue.confirm(4);
	assert.equal(queue.length, 2);
	assert.equal(queue.lastSentKey, 6);
});

test("queue: confirm with nothing sent changes nothing", () => {
	const queue = filled(10, [1, 2]);
	queue.confirm(2);
	assert.equal(queue.length, 2);
});

test("queue: rewind makes sent-but-unconfirmed entries unsent again, in order", () => {
	const queue = filled(10, [1, 2, 3]);
	take(queue, 2);
	queue.rewind();
	assert.equal(queue.unsent, 3);
	assert.equal(queue.lastSentKey, undefined);
	assert.deepEqual(take(queue, 10), ["r1", "r2", "r3"]);
});

test("queue: lastSentKey is undefined until something is sent and after all is confirmed", () => {
	const queue = filled(10, [1, 2]);
	assert.equal(queue.lastSentKey, undefined);
	take(queue, 1);
	assert.equal(queue.lastSentKey, 1);
	take(queue, 1);
	assert.equal(queue.lastSentKey, 2);
	queue.confirm(2);
	assert.equal(queue.lastSentKey, undefined);
	assert.equal(queue.length, 0);
});

test("queue: dropping a sent-but-unconfirmed entry neither re-sends nor skips the rest", () => {
	const queue = filled(3, [1, 2, 3]);
	take(queue, 2);			// 1 and 2 in flight
	queue.push(4, "r4");			// drops 1
	assert.equal(queue.dropped, 1);
	assert.equal(queue.lastSentKey, 2);
	assert.equal(queue.unsent, 2);
	assert.deepEqual(take(queue, 10), ["r3", "r4"]);
	queue.confirm(4);
	assert.equal(queue.length, 0);
});

test("queue: drops past every sent entry leave nothing marked sent", () => {
	const queue = filled(2, [1, 2]);
	take(queue, 1);			// 1 in flight
	queue.push(3, "r3");			// drops 1 (sent)
	queue.push(4, "r4");			// drops 2 (unsent)
	assert.equal(queue.dropped, 2);
	assert.equal(queue.lastSentKey, undefined);
	assert.deepEqual(take(queue, 10), ["r3", "r4"]);
});

test("queue: peekUnsent does not mark anything sent; markSent does", () => {
	const queue = filled(10, [1, 2, 3]);
	assert.deepEqual(queue.peekUnsent(2), ["r1", "r2"]);
	assert.equal(queue.unsent, 3);
	queue.markSent(1);
	assert.equal(queue.lastSentKey, 1);
	assert.deepEqual(queue.peekUnsent(5), ["r2", "r3"]);
});

test("queue: markSent never marks past the end", () => {
	const queue = filled(10, [1, 2]);
	queue.markSent(5);
	assert.equal(queue.unsent, 0);
	assert.equal(queue.lastSentKey, 2);
	queue.push(3, "r3");
	assert.deepEqual(take(queue, 5), ["r3"]);
});
