import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERVAL_MAX, INTERVAL_MIN, KEY, isInterval, nextBoot, storeInterval, storeRestartReason, storedInterval, takeRestartReason } from "../../modules/app/config/settings";
import { MemoryStorage } from "./support/fakes";

test("settings: the interval range includes its bounds and nothing else", () => {
	assert.ok(isInterval(INTERVAL_MIN));
	assert.ok(isInterval(INTERVAL_MAX));
	for (const value of [INTERVAL_MIN - 1, INTERVAL_MAX + 1, 1_500.5, "5000", NaN, undefined])
		assert.equal(isInterval(value), false, String(value));
});

test("settings: a stored interval reads back; a damaged one reads as undefined", () => {
	const storage = new MemoryStorage();
	assert.equal(storedInterval(storage), undefined);
	storeInterval(storage, 5_000);
	assert.equal(storage.get(KEY.interval), 5_000);
	assert.equal(storedInterval(storage), 5_000);
	for (const damaged of [INTERVAL_MAX + 1, "5000", 0]) {
		storage.set(KEY.interval, damaged);
		assert.equal(storedInterval(storage), undefined, String(damaged));
	}
});

test("settings: the boot counter counts up from the stored value; a damaged one restarts at 1", () => {
	const storage = new MemoryStorage({ [KEY.boot]: 41 });
	assert.equal(nextBoot(storage), 42);
	assert.equal(storage.get(KEY.boot), 42);
	storage.set(KEY.boot, "x");
	assert.equal(nextBoot(storage), 1);
	storage.set(KEY.boot, -3);
	assert.equal(nextBoot(storage), 1);
});

test("settings: a restart reason is read once", () => {
	const storage = new MemoryStorage();
	assert.equal(takeRestartReason(storage), undefined);
	storeRestartReason(storage, "ota");
	assert.equal(takeRestartReason(storage), "ota");
	assert.equal(takeRestartReason(storage), undefined, "cleared as it was read");
});
