/*
 * `npm run ota -- <image> --device <id> --version <v>`: updates one device over the air.
 *
 * - Serves the image over HTTPS on 127.0.0.1 (a free port) with the dev PKI's server
 *   certificate and chain (SAN localhost, 127.0.0.1), computes its SHA-256 and sends
 *   ota.start {url: https://localhost:<port>/<name>, sha256, version, force?} on
 *   <prefix>/<id>/cmd through the broker of the running `npm start` (.dev/broker.json)
 *   or the one given with --port.
 * - Follows the answer on cmd/result and the progress on <prefix>/<id>/ota with a
 *   progress bar (one line per message when stdout is not a terminal), then waits
 *   briefly for the birth with the new fw.
 * - Exit status: 0 the device is rebooting into the image; 1 usage or setup problem;
 *   2 the device refused the command (E_VERSION, E_BUSY, ...); 3 the update failed
 *   (E_HASH, E_HTTP, ...); 4 timeout (no answer, or no progress for --timeout s).
 *   The server is stopped before exiting, whatever happened.
 * Limits: the URL names localhost, so the device must reach this machine as localhost
 * (Node emulator, simulators); a board on WiFi needs a server certificate for the
 * machine's LAN name and --host.
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { PKI_DIR, readBrokerInfo } from "./dev-state";
import { LOOPBACK } from "./net";

export enum Exit { Ok = 0, Usage = 1, Refused = 2, Failed = 3, Timeout = 4 }

const USAGE = "usage: npm run ota -- <image> --device <id> --version <v> [--force] [--port <broker port>] [--prefix devices] [--pki <dir>] [--host localhost] [--timeout 60]";
const ANSWER_TIMEOUT = 10_000;	// ms for the command's answer
const BIRTH_WAIT = 15_000;		// ms to wait for the birth with the new fw after rebooting

interface Options {
	image: string;
	device: string;
	version: string;
	force: boolean;
	port: number;
	prefix: string;
	pkiDir: string;
	host: string;
	timeout: number;	// ms without progress
}

class Stop extends Error {
	constructor(readonly code: Exit, message: string) { super(message); }
}

function options(argv: string[]): Options {
	const { values, positionals } = parseArgs({
		args: argv, allowPositionals: true, options: {
			device: { type: "string" }, version: { type: "string" }, force: { type: "boolean", default: false },
			port: { type: "string" }, prefix: { type: "string", default: "devices" }, pki: { type: "string" },
			host: { type: "string", default: "localhost" }, timeout: { type: "string", default: "60" },
		},
	});
	if (positionals.length !== 1 || !values.device || !values.version)
		throw new Stop(Exit.Usage, USAGE);
	const image = positionals[0];
	if (!existsSync(image))
		throw new Stop(Exit.Usage, `${image}: no such file`);
	const info = readBrokerInfo();
	const port = values.port ? Number(values.port) : info?.port;
	if (!port || !Number.isInteger(port))
		throw new Stop(Exit.Usage, "no broker: start one with `npm start` (it writes .dev/broker.json) or pass --port");
	const pkiDir = values.pki ?? info?.pkiDir ?? PKI_DIR;
	for (const file of ["ca.pem", "server.key", "server-chain.pem"])
		if (!existsSync(join(pkiDir, file)))
			throw new Stop(Exit.Usage, `${join(pkiDir, file)} is missing: run \`npm start\` once to make the dev PKI, or pass --pki`);
	const timeout = Number(values.timeout);
	if (!(timeout > 0))
		throw new Stop(Exit.Usage, `--timeout ${values.timeout}: seconds, more than 0`);
	return { image, device: values.device, version: values.version, force: values.force === true, port, prefix: values.prefix ?? "devices", pkiDir, host: values.host ?? "localhost", timeout: timeout * 1000 };
}

/** Serves `body` at `/<name>` until closed; everything else is 404. */
function serve(body: Buffer, name: string, pkiDir: string, log: (line: string) => void): Promise<{ server: Server; port: number }> {
	const server = createServer({
		key: readFileSync(join(pkiDir, "server.key")),
		cert: readFileSync(join(pkiDir, "server-chain.pem")),
		minVersion: "TLSv1.2",
	}, (request, response) => {
		if (request.method !== "GET" || request.url !== `/${name}`) {
			response.writeHead(404, { "content-length": 0 }).end();
			return;
		}
		log(`serving ${body.length} bytes to ${request.socket.remoteAddress}`);
		response.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
	});
	server.on("tlsClientError", error => log(`a TLS client was refused: ${error.message}`));
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, LOOPBACK, () => {
			const address = server.address();
			resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
		});
	});
}

interface Progress {
	state?: string;
	version?: string;
	received?: number;
	total?: number | null;
	error?: { code?: string; message?: string };
}

function bar(p: Progress): string {
	const kib = (n: number) => (n / 1024).toFixed(1);
	if (p.state !== "downloading" || !p.total)
		return `${p.state}${p.total ? ` ${kib(p.received ?? 0)}/${kib(p.total)} KiB` : ""}`;
	const fraction = Math.min(1, (p.received ?? 0) / p.total);
	const width = 30;
	const done = Math.round(fraction * width);
	return `downloading [${"#".repeat(done)}${"-".repeat(width - done)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${kib(p.received ?? 0)}/${kib(p.total)} KiB`;
}

async function connect(o: Options): Promise<MqttClient> {
	const client = mqtt.connect({
		protocol: "mqtts", host: "localhost", port: o.port, ca: readFileSync(join(o.pkiDir, "ca.pem")),
		protocolVersion: 4, clientId: `ota-cli-${process.pid}`, reconnectPeriod: 0, connectTimeout: 10_000,
	});
	await new Promise<void>((resolve, reject) => {
		client.once("connect", () => resolve());
		client.once("error", error => reject(new Stop(Exit.Usage, `broker on localhost:${o.port}: ${error.message}`)));
	});
	return client;
}

/** Runs one update; resolves with the exit status and a closing line. */
export async function runOta(argv: string[], out: (text: string) => void = line => console.log(line)): Promise<{ code: Exit; message: string }> {
	let server: Server | undefined;
	let client: MqttClient | undefined;
	let watchdog: NodeJS.Timeout | undefined;
	try {
		const o = options(argv);
		const body = readFileSync(o.image);
		const name = encodeURIComponent(basename(o.image));
		const sha256 = createHash("sha256").update(body).digest("hex");
		const served = await serve(body, name, o.pkiDir, line => out(`server: ${line}`));
		server = served.server;
		const url = `https://${o.host}:${served.port}/${name}`;
		out(`image ${o.image}: ${body.length} bytes, sha256 ${sha256}`);
		client = await connect(o);
		const base = `${o.prefix}/${o.device}`;
		await client.subscribeAsync([`${base}/cmd/result`, `${base}/ota`, `${base}/status`], { qos: 0 });
		const id = `ota-cli-${Date.now().toString(36)}`;
		const tty = process.stdout.isTTY === true;
		const outcome = new Promise<{ code: Exit; message: string }>((resolve, reject) => {
			let answered = false;
			let rebooting = false;
			watchdog = setTimeout(() => reject(new Stop(Exit.Timeout, `no answer from ${o.device} in ${ANSWER_TIMEOUT / 1000} s: is it online on this broker?`)), ANSWER_TIMEOUT);
			const quiet = (ms: number, why: () => Stop) => { clearTimeout(watchdog); watchdog = setTimeout(() => reject(why()), ms); };
			client!.on("message", (topic, payload) => {
				let message: Progress & { id?: unknown; ok?: boolean; online?: boolean; fw?: string; boot?: number };
				try { message = JSON.parse(payload.toString("utf8")); } catch { return; }
				if (topic.endsWith("/cmd/result") && message.id === id) {
					answered = true;
					if (!message.ok)
						return reject(new Stop(Exit.Refused, `refused: ${message.error?.code} ${message.error?.message}`));
					quiet(o.timeout, () => new Stop(Exit.Timeout, `no progress for ${o.timeout / 1000} s`));
				}
				else if (topic.endsWith("/ota") && answered && !rebooting && message.version === o.version) {
					const line = bar(message);
					if (tty)
						process.stdout.write(`\r${line}\x1b[K${message.state === "downloading" ? "" : "\n"}`);
					else
						out(line);
					quiet(o.timeout, () => new Stop(Exit.Timeout, `no progress for ${o.timeout / 1000} s`));
					if (message.state === "failed")
						reject(new Stop(Exit.Failed, `failed: ${message.error?.code} ${message.error?.message}`));
					else if (message.state === "rebooting") {
						rebooting = true;
						quiet(BIRTH_WAIT, () => new Stop(Exit.Ok, `rebooting into ${o.version}; no birth with fw ${o.version} within ${BIRTH_WAIT / 1000} s yet`));
					}
				}
				else if (topic.endsWith("/status") && rebooting && message.online === true && message.fw === o.version) {
					clearTimeout(watchdog);
					resolve({ code: Exit.Ok, message: `updated: ${o.device} is back with fw ${o.version} (boot ${message.boot})` });
				}
			});
		});
		const command = { id, op: "ota.start", url, sha256, version: o.version, ...(o.force ? { force: true } : {}) };
		out(`-> ${base}/cmd ${JSON.stringify(command)}`);
		await client.publishAsync(`${base}/cmd`, JSON.stringify(command), { qos: 0 });
		return await outcome;
	}
	catch (error) {
		if (error instanceof Stop)
			return { code: error.code, message: error.message };
		return { code: Exit.Usage, message: error instanceof Error ? error.message : String(error) };
	}
	finally {
		clearTimeout(watchdog);
		await client?.endAsync(true).catch(() => undefined);
		if (server) {
			server.closeAllConnections();
			await new Promise(resolve => server!.close(resolve));
		}
	}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	runOta(process.argv.slice(2)).then(({ code, message }) => {
		(code === Exit.Ok ? console.log : console.error)(message);
		process.exit(code);
	});
}
