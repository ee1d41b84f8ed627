/*
 * Where `npm start` keeps its local state, and the small file through which other
 * tools (the OTA CLI) find its broker.
 *
 * - .dev/pki: the dev PKI (tools/pki.ts); .dev/broker.json: {port, pid, prefix, pkiDir}
 *   of the running broker, written at start and removed at a clean stop.
 * - readBrokerInfo() ignores a file whose process is gone (a crashed npm start).
 */

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DEV_DIR = join(ROOT, ".dev");
export const PKI_DIR = join(DEV_DIR, "pki");
export const BROKER_INFO = join(DEV_DIR, "broker.json");

export interface BrokerInfo {
	port: number;
	pid: number;
	prefix: string;
	pkiDir: string;
}

export function writeBrokerInfo(info: BrokerInfo, path = BROKER_INFO): void {
	writeFileSync(path, JSON.stringify(info, null, "\t") + "\n");
}

export function removeBrokerInfo(path = BROKER_INFO): void {
	rmSync(path, { force: true });
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	}
	catch (error) {
		return (error as { code?: string }).code === "EPERM";
	}
}

/** The running npm start's broker, or undefined (no file, damaged, or its process is gone). */
export function readBrokerInfo(path = BROKER_INFO): BrokerInfo | undefined {
	if (!existsSync(path))
		return undefined;
	try {
		const info = JSON.parse(readFileSync(path, "utf8")) as Partial<BrokerInfo>;
		if (typeof info.port !== "number" || typeof info.pid !== "number" || !alive(info.pid))
			return undefined;
		return { port: info.port, pid: info.pid, prefix: typeof info.prefix === "string" ? info.prefix : "devices", pkiDir: typeof info.pkiDir === "string" ? info.pkiDir : PKI_DIR };
	}
	catch {
		return undefined;
	}
}
