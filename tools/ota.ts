/*
 * `npm run ota -- <image> --device <id> --version <v>`: updates one device over the air.
 *
 * - Serves the image over HTTPS on a free port of the address --host names (default
 *   localhost: 127.0.0.1; a name is resolved, an IP address used as it is) with a
 *   certificate whose SAN is that host: the dev server certificate for localhost and
 *   127.0.0.1, else one issued on the spot from the dev CA (pki.ts makeHostServer).
 *   Computes the image's SHA-256, signs it for the board model (--model, default the
 *   `model` of the device's retained birth) with the update-signing key (--key, default
 *   the dev PKI's ota-signing.key) and sends ota.start {url:
 *   https://<host>:<port>/<name>, model, version, sha256, size, signature, force?} on
 *   <prefix>/<id>/cmd through the broker at --broker (default localhost) and the port
 *   of the running `npm start` (.dev/broker.json) or --port.
 * - Follows the answer on cmd/result and the progress on <prefix>/<id>/ota with a
 *   progress bar (one line per message when stdout is not a terminal), then waits
 *   briefly for the birth with the new fw and its "confirmed" (or "rolled-back").
 * - `npm run ota -- sign <image> --model <m> --version <v> --url <url> [--key k] [--force]` only
 *   prints the signed ota.start payload (one line of JSON, for mosquitto_pub -s).
 * - Exit status: 0 the device is rebooting into the image (or confirmed it); 1 usage
 *   or setup problem; 2 the device refused the command (E_SIGNATURE, E_VERSION,
 *   E_BUSY, ...); 3 the update failed (E_HASH, E_HTTP, ..., or it rolled back); 4
 *   timeout (no answer within --timeout s, or no progress for --timeout s). --help
 *   prints the usage and exits 0.
 * - A wrong argument is refused before anything is signed or sent, naming it with the
 *   rule and an example (ota-args.ts): a missing --device or --version, a version every
 *   device would refuse, a URL the device does not fetch, an image that is a folder,
 *   empty or missing, an unknown option.
 *   The server is stopped before exiting, whatever happened.
 * Limits: the device must trust the dev CA (certs/ca.der from `npm start`) and reach
 * this machine at --host; the CLI trusts the broker with the same --pki CA.
 */

import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { basename, join, resolve } from "node:path";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { PKI_DIR, readBrokerInfo } from "./dev-state";
import { operatorOptions } from "./dev-identity";
import { LOOPBACK } from "./net";
import { checkHostName, makeHostServer } from "./pki";
import { OTA_SIGNING_KEY, signedStart } from "./ota-sign";
import { Exit, Stop, USAGE, checkImage, checkModel, checkUrl, checkVersion, parse } from "./ota-args";

export { Exit };

const BIRTH_WAIT = 15_000;		// ms to wait for the birth with the new fw after rebooting

interface Options {
	image: string;
	device: string;
	version: string;
	model: string | undefined;	// undefined: the device's birth says
	force: boolean;
	port: number;
	prefix: string;
	pkiDir: string;
	key: string;		// the update-signing private key (PEM)
	host: string;
	broker: string;
	timeout: number;	// ms for the answer, then without progress
}

function options(argv: string[]): Options {
	const { values, positionals } = parse(() => parseArgs({
		args: argv, allowPositionals: true, options: {
			device: { type: "string" }, version: { type: "string" }, force: { type: "boolean", default: false },
			port: { type: "string" }, prefix: { type: "string", default: "devices" }, pki: { type: "string" },
			host: { type: "string", default: "localhost" }, timeout: { type: "string", default: "60" },
			broker: { type: "string", default: "localhost" }, help: { type: "boolean", default: false },
			key: { type: "string" }, model: { type: "string" },
		},
	}));
	if (values.help)
		throw new Stop(Exit.Ok, USAGE);
	const image = checkImage(positionals);
	if (!values.device)
		throw new Stop(Exit.Usage, "missing --device <id>: the id of the device to update, as in its topics devices/<id>/... (e.g. --device dev-node)");
	checkVersion(values.version);
	const info = readBrokerInfo();
	const port = values.port ? Number(values.port) : info?.port;
	if (values.port !== undefined && !(Number.isInteger(port) && port! >= 1 && port! <= 65535))
		throw new Stop(Exit.Usage, `--port ${JSON.stringify(values.port)}: the broker's TLS port, 1..65535 (e.g. --port 8883)`);
	if (!port || !Number.isInteger(port))
		throw new Stop(Exit.Usage, "no broker: start one with `npm start` (it writes .dev/broker.json) or pass --port");
	const pkiDir = values.pki ?? info?.pkiDir ?? PKI_DIR;
	const host = values.host ?? "localhost";
	for (const file of ["ca.pem", ...namedByDevCert(host) ? ["server.key", "server-chain.pem"] : ["ca.key"]])
		if (!existsSync(join(pkiDir, file)))
			throw new Stop(Exit.Usage, `${join(pkiDir, file)} is missing: run \`npm start\` once to make the dev PKI, or pass --pki`);
	const key = signingKey(values.key, pkiDir);
	const timeout = Number(values.timeout);
	if (!(timeout > 0))
		throw new Stop(Exit.Usage, `--timeout ${JSON.stringify(values.timeout)}: seconds, more than 0 (e.g. --timeout 120)`);
	return { image, device: values.device, version: values.version!, model: values.model === undefined ? undefined : checkModel(values.model), force: values.force === true, port, prefix: values.prefix ?? "devices", pkiDir, key, host, broker: values.broker ?? "localhost", timeout: timeout * 1000 };
}

/** The signing key's path (--key, else the dev PKI's); a usage error when it is missing. */
function signingKey(given: string | undefined, pkiDir: string): string {
	const key = given ?? join(pkiDir, OTA_SIGNING_KEY);
	if (!existsSync(key))
		throw new Stop(Exit.Usage, `${key} is missing: run \`npm start\` once to make the dev signing key, or pass --key`);
	return key;
}

/** `sign`: the signed ota.start payload for an image, as one line of JSON. */
function sign(argv: string[]): { code: Exit; message: string } {
	const { values, positionals } = parse(() => parseArgs({
		args: argv, allowPositionals: true, options: {
			version: { type: "string" }, url: { type: "string" }, key: { type: "string" }, pki: { type: "string" },
			force: { type: "boolean", default: false }, id: { type: "string" }, model: { type: "string" },
		},
	}));
	const image = checkImage(positionals);
	const version = checkVersion(values.version);
	const url = checkUrl(values.url);
	const model = checkModel(values.model);
	const key = readFileSync(signingKey(values.key, values.pki ?? readBrokerInfo()?.pkiDir ?? PKI_DIR));
	const payload = signedStart(key, readFileSync(image), url, model, version, values.force === true);
	return { code: Exit.Ok, message: JSON.stringify({ id: values.id ?? `ota-${Date.now().toString(36)}`, ...payload }) };
}

/** True for the hosts the dev server certificate names (pki.ts server_ext); any other gets its own. */
function namedByDevCert(host: string): boolean {
	return host === "localhost" || host === LOOPBACK;
}

/** The address to listen on for `host`, and the certificate (in pkiDir) that names it. */
async function listenAddress(host: string, pkiDir: string): Promise<{ address: string; cert: string }> {
	if (namedByDevCert(host))
		return { address: LOOPBACK, cert: "server" };
	let address = host;
	try { checkHostName(host); }
	catch (error) { throw new Stop(Exit.Usage, `--host ${host}: ${error instanceof Error ? error.message : error}`); }
	if (!isIP(host)) {
		try { address = (await lookup(host, { family: 4 })).address; }
		catch (error) { throw new Stop(Exit.Usage, `--host ${host}: ${error instanceof Error ? error.message : error}`); }
	}
	try { return { address, cert: makeHostServer(pkiDir, host) }; }
	catch (error) { throw new Stop(Exit.Usage, `--host ${host}: ${error instanceof Error ? error.message : error}`); }
}

/** Serves `body` at `/<name>` on `host` until closed; everything else is 404. */
async function serve(body: Buffer, name: string, host: string, pkiDir: string, log: (line: string) => void): Promise<{ server: Server; port: number }> {
	const { address, cert } = await listenAddress(host, pkiDir);
	const server = createServer({
		key: readFileSync(join(pkiDir, `${cert}.key`)),
		cert: readFileSync(join(pkiDir, `${cert}-chain.pem`)),
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
		server.once("error", error => reject(new Stop(Exit.Usage, `the image server cannot listen on ${address}: ${error.message}`)));
		server.listen(0, address, () => {
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
	const info = readBrokerInfo();	// npm start -- --mtls/--password: log in as its operator
	const client = mqtt.connect({
		protocol: "mqtts", host: o.broker, port: o.port, ca: readFileSync(join(o.pkiDir, "ca.pem")),
		protocolVersion: 4, clientId: `ota-cli-${process.pid}`, reconnectPeriod: 0, connectTimeout: 10_000,
		...operatorOptions(info?.port === o.port ? info.login : undefined, readFileSync),
	});
	await new Promise<void>((resolve, reject) => {
		client.once("connect", () => resolve());
		client.once("error", error => reject(new Stop(Exit.Usage, `broker on ${o.broker}:${o.port}: ${error.message}`)));
	});
	return client;
}

const BIRTH_READ = 3_000;	// ms to wait for the retained birth when --model is not given

/** The `model` of the device's retained birth; a usage error when it names none. */
async function birthModel(client: MqttClient, topic: string): Promise<string> {
	let found: string | undefined;
	const listener = (from: string, payload: Buffer) => {
		try {
			const model = from === topic ? JSON.parse(payload.toString("utf8")).model : undefined;
			if (typeof model === "string" && model)
				found = model;
		}
		catch { /* not a birth */ }
	};
	client.on("message", listener);
	await client.subscribeAsync(topic, { qos: 0 });
	const deadline = Date.now() + BIRTH_READ;
	while (found === undefined && Date.now() < deadline)
		await new Promise(resolve => setTimeout(resolve, 50));
	client.off("message", listener);
	await client.unsubscribeAsync(topic);
	if (found === undefined)
		throw new Stop(Exit.Usage, `${topic} has no retained birth naming a model: pass --model`);
	return found;
}

/** Runs one update; resolves with the exit status and a closing line. */
export async function runOta(argv: string[], out: (text: string) => void = line => console.log(line)): Promise<{ code: Exit; message: string }> {
	let server: Server | undefined;
	let client: MqttClient | undefined;
	let watchdog: NodeJS.Timeout | undefined;
	try {
		if (argv[0] === "sign")
			return sign(argv.slice(1));
		const o = options(argv);
		const body = readFileSync(o.image);
		const name = encodeURIComponent(basename(o.image));
		const served = await serve(body, name, o.host, o.pkiDir, line => out(`server: ${line}`));
		server = served.server;
		const url = `https://${isIP(o.host) === 6 ? `[${o.host}]` : o.host}:${served.port}/${name}`;
		client = await connect(o);
		const base = `${o.prefix}/${o.device}`;
		const model = o.model ?? await birthModel(client, `${base}/status`);
		const start = signedStart(readFileSync(o.key), body, url, model, o.version, o.force);
		out(`image ${o.image}: ${body.length} bytes, sha256 ${start.sha256}, model ${model}, signed with ${o.key}`);
		await client.subscribeAsync([`${base}/cmd/result`, `${base}/ota`, `${base}/status`], { qos: 0 });
		const id = `ota-cli-${Date.now().toString(36)}`;
		const tty = process.stdout.isTTY === true;
		const outcome = new Promise<{ code: Exit; message: string }>((resolve, reject) => {
			let answered = false;
			let rebooting = false;
			let back: string | undefined;
			watchdog = setTimeout(() => reject(new Stop(Exit.Timeout, `no answer from ${o.device} in ${o.timeout / 1000} s: is it online on this broker?`)), o.timeout);
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
					back = `${o.device} is back with fw ${o.version} (boot ${message.boot})`;
					quiet(BIRTH_WAIT, () => new Stop(Exit.Ok, `updated: ${back}; not confirmed yet (an update confirms itself after otaConfirmAfter ms online, 60 s by default)`));
				}
				else if (topic.endsWith("/ota") && rebooting && message.version === o.version && message.state === "confirmed") {
					clearTimeout(watchdog);
					resolve({ code: Exit.Ok, message: `updated: ${back ?? o.device} and confirmed it` });
				}
				else if (topic.endsWith("/ota") && rebooting && message.version === o.version && message.state === "rolled-back")
					reject(new Stop(Exit.Failed, `rolled back: ${o.version} failed (${(message as { cause?: string }).cause}); ${o.device} runs ${(message as { running?: string }).running}`));
			});
		});
		const command = { id, ...start };
		out(`-> ${base}/cmd ${JSON.stringify({ ...command, signature: `${start.signature.slice(0, 12)}...` })}`);
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
