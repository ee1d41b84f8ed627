/*
 * Without the openssl CLI, making the dev PKI (npm start's first step) fails with a
 * message that names openssl and how to install it, not a bare spawn ENOENT.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { OPENSSL_MISSING, generatePki } from "../../tools/pki";

describe("dev PKI without openssl", () => {
	it("says that openssl is needed and how to get it", () => {
		const dir = mkdtempSync(join(tmpdir(), "smn-no-openssl-"));
		const path = process.env.PATH;
		process.env.PATH = join(dir, "empty-bin");	// nothing to execute there
		try {
			assert.throws(() => generatePki(join(dir, "pki")), (error: Error) => error.message === OPENSSL_MISSING);
			assert.match(OPENSSL_MISSING, /^openssl was not found on PATH: .*install it \(apt-get install openssl/);
		}
		finally {
			process.env.PATH = path;
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
