/*
 * Where `npm start` keeps its local state, and the small file through which other
 * tools (the OTA CLI) find its broker.
 *
 * - .dev/pki: the dev PKI (tools/pki.ts); .dev/broker.json: {port, pid, prefix, pkiDir,
 *   login} of the running broker, written at start and removed at a clean stop; `login`
 *   is the operator's (`npm start -- --mtls` or `--password`, tools/dev-identity.ts).
 * - readBrokerInfo() ignores a file whose process is gone (a crashed npm start).
 * - One `npm start` per checkout: claimCheckout() takes .dev/start.pid before anything
 *   else (the broker info, the emulator's boot counter in .dev/node-device.json, its
 *   OTA image and the simulator build all live in .dev/) and refuses, naming the pid,
 *   while another live npm start holds it; a file left by a dead one is taken over.
 * - The emulator's state: NODE_DEVICE_STATE (boot counter, telemetry interval) and
 *   NODE_OTA_IMAGE (the image an update installed); deleting them resets it.
 */

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DEV_DIR = join(ROOT, ".dev");
export const PKI_DIR = join(DEV_DIR, "pki");
export const BROKER_INFO = join(DEV_DIR, "broker.json");
export const START_LOCK = join(DEV_DIR, "start.pid");
export const NODE_DEVICE_STATE = join(DEV_DIR, "node-device.json");
export const NODE_OTA_IMAGE = join(DEV_DIR, "node-ota.bin");

export interface BrokerInfo {
	port: number;
	pid: number;
	prefix: string;
	pkiDir: string;
	/** The operator's certificate (PEM paths) or user name and password, when the broker asks. */
	login?: { cert?: string; key?: string; username?: string; password?: string };
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
		return { port: info.port, pid: info.pid, prefix: typeof info.prefix === "string" ? info.prefix : "devices", pkiDir: typeof info.pkiDir === "string" ? info.pkiDir : PKI_DIR, login: typeof info.login === "object" && info.login ? info.login : undefined };
	}
	catch {
		return undefined;
	}
}

/**
 * Makes this process the checkout's one npm start; returns the release (removes the
 * file if it is still ours). Throws, naming the holder, while another one runs.
 */
export function claimCheckout(path = START_LOCK): () => void {
	mkdirSync(dirname(path), { recursive: true });
	for (let attempt = 0; ; attempt++) {
		try {
			writeFileSync(path, `${process.pid}\n`, { flag: "wx" });	// fails if the file exists: no race between two starts
			break;
		}
		catch (error) {
			if ((error as { code?: string }).code !== "EEXIST" || attempt > 0)
				throw error;
		}
		const holder = Number.parseInt(readFileSync(path, "utf8"), 10);
		if (Number.isInteger(holder) && holder !== process.pid && alive(holder))
			throw new Error(`another npm start (pid ${holder}) is running in this checkout and owns .dev/ (its broker, the emulator's boot counter and OTA image): use that one, or stop it first (Ctrl-C in its terminal, or kill ${holder})`);
		rmSync(path, { force: true });	// left by an npm start that is gone
	}
	return () => {
		if (existsSync(path) && Number.parseInt(readFileSync(path, "utf8"), 10) === process.pid)
			rmSync(path, { force: true });
	};
}
