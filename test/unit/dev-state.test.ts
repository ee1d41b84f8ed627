/*
 * One npm start per checkout (tools/dev-state.ts claimCheckout): a second one is
 * refused with the first one's pid while it runs; a lock left by a dead one is taken
 * over; release() gives it back.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { claimCheckout } from "../../tools/dev-state";

describe("npm start's checkout lock", () => {
	const dir = mkdtempSync(join(tmpdir(), "smn-dev-state-"));
	after(() => rmSync(dir, { recursive: true, force: true }));

	it("refuses while another live process holds it, naming that process", async () => {
		const lock = join(dir, "a", "start.pid");
		const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
		try {
			mkdirSync(join(dir, "a"), { recursive: true });
			writeFileSync(lock, `${other.pid}\n`);
			assert.throws(() => claimCheckout(lock), new RegExp(`^Error: another npm start \\(pid ${other.pid}\\) is running in this checkout`));
			assert.equal(readFileSync(lock, "utf8").trim(), String(other.pid), "the holder's lock is left alone");
		}
		finally {
			other.kill("SIGKILL");
			await new Promise(resolve => other.once("exit", resolve));
		}
		const release = claimCheckout(lock);	// the holder is gone now: taken over
		assert.equal(readFileSync(lock, "utf8").trim(), String(process.pid));
		release();
		assert.equal(existsSync(lock), false);
	});

	it("claims a fresh checkout and gives it back", () => {
		const lock = join(dir, "b", "start.pid");
		const release = claimCheckout(lock);
		assert.equal(readFileSync(lock, "utf8").trim(), String(process.pid));
		release();
		assert.equal(existsSync(lock), false);
	});
});
