/*
 * NodeUpdateTarget's boot slots, file-backed: a completed image is pending (and what
 * boots), confirm() makes it installed and keeps the one before as previous, revert()
 * discards it, and a new target on the same path (a new process) finds the slots.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeUpdateTarget } from "../../node/update-target";

function install(target: NodeUpdateTarget, version: string, fill: number): Buffer {
	const bytes = Buffer.alloc(1_000, fill);
	target.begin(bytes.length);
	target.write(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
	target.complete(version);
	return bytes;
}

test("node target: pending, confirm, revert and the slots surviving a new process", () => {
	const dir = mkdtempSync(join(tmpdir(), "smn-slots-"));
	const path = join(dir, "node-ota.bin");
	try {
		const target = new NodeUpdateTarget({ path });
		assert.equal(target.pending(), false);
		assert.equal(target.version(), undefined, "the built-in image");
		const first = install(target, "1.1.0", 1);
		assert.equal(target.pending(), true);
		assert.equal(target.version(), "1.1.0");
		assert.deepEqual(readFileSync(`${path}.pending`), first);
		target.confirm();
		assert.deepEqual(target.slots, { installed: "1.1.0" });
		assert.deepEqual(readFileSync(path), first);

		const second = install(target, "1.2.0", 2);
		const reopened = new NodeUpdateTarget({ path });
		assert.equal(reopened.pending(), true, "a restart finds the pending image");
		assert.deepEqual(reopened.bootImage, second);
		reopened.revert();
		assert.equal(reopened.version(), "1.1.0");
		assert.ok(!existsSync(`${path}.pending`));

		install(reopened, "1.3.0", 3);
		reopened.confirm();
		assert.deepEqual(new NodeUpdateTarget({ path }).slots, { installed: "1.3.0", previous: "1.1.0" });
		assert.deepEqual(readFileSync(`${path}.previous`), first);
		assert.throws(() => reopened.confirm(), /no pending image/);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
