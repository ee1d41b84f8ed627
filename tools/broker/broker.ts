/*
 * Dev/test broker launcher: mosquitto with one TLS listener on a loopback port.
 *
 * - Binds 127.0.0.1 only, TLS 1.2 minimum (what the device speaks; mosquitto 2 takes
 *   tls_version as the floor), the server sends its chain,
 *   anonymous allowed; `requireClientCert` turns on mutual TLS.
 * - `auth` starts it as the broker kit configures a production broker (broker/kit.ts):
 *   mutual TLS with the certificate's CN as username, or a password file made from
 *   `passwords`; never anonymous; the ACL confines each device to <prefix>/<user>/#.
 *   Only mosquitto does this (no aedes fallback).
 * - Persistence with queued QoS 0 messages: a subscriber with a persistent session
 *   (clean: false, QoS 1 subscription) misses nothing across restart(), which stops
 *   mosquitto with SIGTERM (it saves its database) and starts it on the same port.
 * - Resolves only once the listener completes a TLS handshake. Logs go to a file.
 * - Every child is killed when this process exits, even on a crash; a mosquitto that
 *   dies on its own is reported through onExit.
 * - Without mosquitto on the machine, falls back to an embedded aedes broker.
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ECDHE_FIRST, HA_PREFIX, OPERATOR, aclText, securitySettings } from "./kit";
import { LOOPBACK, freePort, waitForTls } from "../net";
import { startAedesBroker } from "./aedes";
import type { Broker, BrokerOptions } from "./types";

export type { Broker, BrokerAuth, BrokerOptions } from "./types";

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
	if (exitHookInstalled)
		return;
	exitHookInstalled = true;
	process.on("exit", () => {
		for (const child of children)
			child.kill("SIGKILL");
	});
}

/** The mosquitto executable, or undefined (it lives in /usr/sbin, often not on a user's PATH). */
export function findMosquitto(): string | undefined {
	for (const candidate of ["mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"]) {
		const probe = spawnSync(candidate, ["-h"], { stdio: "ignore" });
		if (!probe.error)
			return candidate;
	}
	return undefined;
}

export async function startBroker(options: BrokerOptions): Promise<Broker> {
	const engine = options.engine ?? "auto";
	const executable = engine === "aedes" ? undefined : findMosquitto();
	if (!executable) {
		if (engine === "mosquitto" || options.auth)
			throw new Error("mosquitto is not installed (apt-get install mosquitto)");
		return startAedesBroker(options);
	}
	return startMosquitto(executable, options);
}

/** Writes the password file with mosquitto_passwd (which hashes as the broker expects). */
function writePasswords(path: string, passwords: Record<string, string>): void {
	writeFileSync(path, "");
	for (const [user, password] of Object.entries(passwords)) {
		const result = spawnSync("mosquitto_passwd", ["-b", path, user, password], { encoding: "utf8" });
		if (result.status !== 0)
			throw new Error(`mosquitto_passwd failed: ${result.error?.message ?? result.stderr}`);
	}
}

function mosquittoConfig(options: BrokerOptions, port: number, work: string, dataDir: string): string {
	const pki = resolve(options.pkiDir);
	const certName = options.certName ?? "server";
	const files = {
		cafile: join(pki, "ca.pem"),
		certfile: join(pki, `${certName}-chain.pem`),
		keyfile: join(pki, `${certName}.key`),
		aclFile: join(work, "acl"),
		passwordFile: join(work, "passwd"),
	};
	const auth = options.auth;
	if (auth) {
		writeFileSync(files.aclFile, aclText(auth.prefix ?? "devices", auth.haPrefix ?? HA_PREFIX, OPERATOR));
		if (auth.mode === "password")
			writePasswords(files.passwordFile, auth.passwords ?? {});
	}
	const security = auth
		? [securitySettings({ mode: auth.mode, prefix: auth.prefix ?? "devices", files, ecdheFirst: options.ecdheFirst ?? false })]
		: [
			`cafile ${files.cafile}`,
			`certfile ${files.certfile}`,
			`keyfile ${files.keyfile}`,
			`tls_version ${options.tlsVersion ?? "tlsv1.2"}`,
			`require_certificate ${options.requireClientCert ? "true" : "false"}`,
			"allow_anonymous true",
			...(options.ecdheFirst ? [`ciphers ${ECDHE_FIRST}`] : []),
		];
	const lines = [
		`listener ${port} ${LOOPBACK}`,
		...security,
		"persistence true",
		`persistence_location ${dataDir}/`,
		"queue_qos0_messages true",
		"max_queued_messages 10000",
		`log_dest file ${join(work, "mosquitto.log")}`,
		"log_type all",
		"connection_messages true",
	];
	// As root, mosquitto would switch to the "mosquitto" user, who cannot read temp dirs.
	if (process.getuid?.() === 0)
		lines.push("user root");
	return lines.join("\n") + "\n";
}

async function startMosquitto(executable: string, options: BrokerOptions): Promise<Broker> {
	installExitHook();
	const port = options.port ?? await freePort();
	const work = mkdtempSync(join(tmpdir(), "smn-mosquitto-"));
	const dataDir = options.persistenceDir ?? join(work, "data");
	mkdirSync(dataDir, { recursive: true });
	const configFile = join(work, "mosquitto.conf");
	const logFile = join(work, "mosquitto.log");
	writeFileSync(configFile, mosquittoConfig(options, port, work, dataDir));
	let child: ChildProcess | undefined;
	let stopped = false;

	const logTail = () => existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n") : "(no log)";

	async function launch(ready = 10_000): Promise<void> {
		// Its own process group: a Ctrl-C in the terminal reaches only this process, which stops it in order.
		const current = spawn(executable, ["-c", configFile], { stdio: ["ignore", "ignore", "pipe"], detached: true });
		let stderr = "";
		let exited: string | undefined;
		current.stderr?.on("data", chunk => { stderr += String(chunk); });
		current.once("exit", (code, signal) => {
			children.delete(current);
			exited = `mosquitto exited (${signal ?? code}) before serving TLS: ${stderr.trim()}\n${logTail()}`;
		});
		current.once("error", error => { exited = `mosquitto could not start: ${error.message}`; });
		children.add(current);
		child = current;
		try {
			await waitForTls(port, ready, () => exited);
		}
		catch (error) {
			await kill(current);
			throw error;
		}
		current.once("exit", (code, signal) => {
			if (child === current && !stopped)	// not a stop() or restart(): they clear `child` first
				options.onExit?.(`mosquitto exited (${signal ?? `code ${code}`})`);	// why is in its log file
		});
	}

	await launch();
	return {
		kind: "mosquitto",
		port,
		get pid() { return child?.pid; },
		logFile,
		async restart(downtime = 0, ready?: number) {
			if (stopped)
				throw new Error("broker already stopped");
			const old = child;
			child = undefined;
			if (old)
				await kill(old);
			await new Promise(resolve => setTimeout(resolve, downtime));
			await launch(ready);
		},
		async stop() {
			if (stopped)
				return;
			stopped = true;
			const old = child;
			child = undefined;
			if (old)
				await kill(old);
			rmSync(work, { recursive: true, force: true });
		},
	};
}

/** SIGTERM (mosquitto saves its database), SIGKILL if it lingers; resolves once it is gone. */
function kill(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null)
		return Promise.resolve();
	return new Promise(resolve => {
		const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
		child.once("exit", () => {
			clearTimeout(force);
			children.delete(child);
			resolve();
		});
		child.kill("SIGTERM");
	});
}
