/*
 * The openssl CLI, as every dev tool runs it: one owner for how a missing or failing
 * openssl is reported.
 *
 * - openssl(args, cwd) returns stdout as text; opensslBytes() as bytes (DER output).
 * - Without the CLI on PATH both throw OPENSSL_MISSING (not a bare spawn ENOENT); a
 *   failing call throws with the subcommand and openssl's own stderr.
 */

import { execFileSync } from "node:child_process";

export const OPENSSL_MISSING = "openssl was not found on PATH: the dev certificates (npm start, npm run ota, the tests) are made with it; install it (apt-get install openssl, brew install openssl) and try again";

export function opensslBytes(args: string[], cwd: string): Buffer {
	try {
		return execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
	}
	catch (error) {
		if ((error as { code?: string }).code === "ENOENT")
			throw new Error(OPENSSL_MISSING);
		const stderr = String((error as { stderr?: unknown }).stderr ?? "");
		throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
	}
}

export function openssl(args: string[], cwd: string): string {
	return opensslBytes(args, cwd).toString("utf8");
}
