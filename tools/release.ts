/*
 * `npm run release -- publish|status`: fleet releases, the operator's side.
 *
 * - publish <image> --model <m> --version <v> --url <u> --rollout <n>: signs the ota2
 *   statement of the image for the model (the dev signing key, --key, or a signature
 *   made elsewhere with --signature, checked against --public-key / the PKI's
 *   ota-key.der when present) and publishes the release retained on
 *   `<fleet-prefix>/<model with / as ->/release`. The image is served by whoever serves
 *   --url. `stageFrom` (the rollout of the same image before, else 0) goes with it, so
 *   status knows the current stage; devices ignore it.
 * - status <model>: reads the retained release and births, listens --wait s (default 2)
 *   for progress, prints where the fleet stands (release-status.ts). --watch keeps
 *   printing on change; --halt-at <n>% watches and, once the failed and rolled-back
 *   share of the current stage passes n %, republishes the release with rollout 0 and
 *   exits 3. --timeout <s> ends a watch (exit 0).
 * - Exit status: 0 done; 1 usage or setup problem (no broker, unreadable image, a
 *   --signature that does not verify); 3 halted.
 * Limits: progress messages are not retained: status counts failures it saw while it ran.
 */

import { createPublicKey, verify } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { PKI_DIR, readBrokerInfo } from "./dev-state";
import { operatorOptions } from "./dev-identity";
import { OTA_KEY_DER, OTA_SIGNING_KEY, imageFields, signUpdate } from "./ota-sign";
import { FleetView, formatSummary, type PublishedRelease } from "./release-status";
import { signedMessage } from "../modules/app/updates/signature";
import { parseRelease, isProblem, releaseTopic } from "../modules/app/updates/release";

export enum Exit { Ok = 0, Usage = 1, Halted = 3 }

const USAGE = `usage: npm run release -- publish <image> --model <m> --version <v> --url <https url> --rollout <0..100> [--signature <base64> | --key <file>]
       npm run release -- status <model> [--watch] [--halt-at <n>%] [--wait <s>] [--timeout <s>]
  common: --port <port> --broker <host> (default the running npm start's broker), --pki <dir>,
          --prefix <devices prefix> (default devices), --fleet-prefix <prefix> (default fleet)`;
const RETAINED_WAIT = 1_500;	// ms for the retained release before publishing over it

class Stop extends Error {
	constructor(readonly code: Exit, message: string) { super(message); }
}

interface Common { port: number; broker: string; pkiDir: string; prefix: string; fleetPrefix: string }

const OPTIONS = {
	model: { type: "string" }, version: { type: "string" }, url: { type: "string" }, rollout: { type: "string" },
	signature: { type: "string" }, key: { type: "string" }, "public-key": { type: "string" },
	port: { type: "string" }, broker: { type: "string", default: "localhost" }, pki: { type: "string" },
	prefix: { type: "string", default: "devices" }, "fleet-prefix": { type: "string", default: "fleet" },
	watch: { type: "boolean", default: false }, "halt-at": { type: "string" }, wait: { type: "string", default: "2" },
	timeout: { type: "string" }, help: { type: "boolean", default: false },
} as const;

function common(values: { port?: string; broker?: string; pki?: string; prefix?: string; "fleet-prefix"?: string }): Common {
	const info = readBrokerInfo();
	const port = values.port ? Number(values.port) : info?.port;
	if (!port || !Number.isInteger(port))
		throw new Stop(Exit.Usage, "no broker: start one with `npm start` or pass --port");
	const pkiDir = values.pki ?? info?.pkiDir ?? PKI_DIR;
	if (!existsSync(join(pkiDir, "ca.pem")))
		throw new Stop(Exit.Usage, `${join(pkiDir, "ca.pem")} is missing: pass --pki`);
	return { port, broker: values.broker ?? "localhost", pkiDir, prefix: values.prefix ?? "devices", fleetPrefix: values["fleet-prefix"] ?? "fleet" };
}

async function connect(c: Common): Promise<MqttClient> {
	const info = readBrokerInfo();
	const client = mqtt.connect({
		protocol: "mqtts", host: c.broker, port: c.port, ca: readFileSync(join(c.pkiDir, "ca.pem")),
		protocolVersion: 4, clientId: `release-cli-${process.pid}-${Date.now().toString(36)}`, reconnectPeriod: 0, connectTimeout: 10_000,
		...operatorOptions(info?.port === c.port ? info.login : undefined, readFileSync),
	});
	await new Promise<void>((resolve, reject) => {
		client.once("connect", () => resolve());
		client.once("error", error => reject(new Stop(Exit.Usage, `broker on ${c.broker}:${c.port}: ${error.message}`)));
	});
	return client;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The retained release on `topic`, if one arrives within RETAINED_WAIT. */
async function retainedRelease(client: MqttClient, topic: string): Promise<PublishedRelease | undefined> {
	let found: PublishedRelease | undefined;
	const listener = (from: string, payload: Buffer) => {
		if (from === topic && payload.length)
			try { found = JSON.parse(payload.toString("utf8")); } catch { /* not ours */ }
	};
	client.on("message", listener);
	await client.subscribeAsync(topic, { qos: 0 });
	await sleep(RETAINED_WAIT);
	client.off("message", listener);
	await client.unsubscribeAsync(topic);
	return found;
}

async function publish(argv: string[], out: (line: string) => void): Promise<{ code: Exit; message: string }> {
	const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
	const { model, version, url } = values;
	if (positionals.length !== 1 || !model || !version || !url || values.rollout === undefined)
		throw new Stop(Exit.Usage, USAGE);
	const rollout = Number(values.rollout.replace(/%$/, ""));
	if (!existsSync(positionals[0]))
		throw new Stop(Exit.Usage, `${positionals[0]}: no such file`);
	const c = common(values);
	const fields = imageFields(readFileSync(positionals[0]), model, version);
	const signature = values.signature ?? signUpdate(readFileSync(values.key ?? join(c.pkiDir, OTA_SIGNING_KEY)), fields);
	const publicKey = values["public-key"] ?? join(c.pkiDir, OTA_KEY_DER);
	if (values.signature && existsSync(publicKey) &&
		!verify("sha256", Buffer.from(signedMessage(fields)), createPublicKey({ key: readFileSync(publicKey), format: "der", type: "spki" }), Buffer.from(signature, "base64")))
		throw new Stop(Exit.Usage, `--signature does not verify under ${publicKey} for ${signedMessage(fields).split("\n").join(" ")}`);
	const release: PublishedRelease = { ...fields, url, signature, rollout };
	const problem = parseRelease(JSON.stringify(release));
	if (isProblem(problem))
		throw new Stop(Exit.Usage, `the release would be refused by devices: ${problem.fault} ${problem.message}`);
	const topic = releaseTopic(c.fleetPrefix, model);
	const client = await connect(c);
	try {
		const before = await retainedRelease(client, topic);
		const same = before && before.version === version && before.sha256 === fields.sha256 && before.url === url;
		release.stageFrom = same ? Math.min(before.rollout, rollout) : 0;
		await client.publishAsync(topic, JSON.stringify(release), { qos: 1, retain: true });
		out(`${topic} ${JSON.stringify({ ...release, signature: `${signature.slice(0, 12)}...` })}`);
		return { code: Exit.Ok, message: `published ${model} ${version} at ${rollout}%${same ? ` (was ${before.rollout}%)` : ""}` };
	}
	finally {
		await client.endAsync(true).catch(() => undefined);
	}
}

async function status(argv: string[], out: (line: string) => void): Promise<{ code: Exit; message: string }> {
	const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
	if (positionals.length !== 1)
		throw new Stop(Exit.Usage, USAGE);
	const model = positionals[0];
	const haltAt = values["halt-at"] === undefined ? undefined : Number(values["halt-at"].replace(/%$/, ""));
	if (haltAt !== undefined && !(haltAt >= 0 && haltAt < 100))
		throw new Stop(Exit.Usage, `--halt-at ${values["halt-at"]}: a percentage, 0..99`);
	const c = common(values);
	const topic = releaseTopic(c.fleetPrefix, model);
	const view = new FleetView(c.prefix, model, topic);
	const client = await connect(c);
	try {
		let changed = false;
		client.on("message", (from, payload) => {
			view.feed(from, payload.toString("utf8"));
			changed = true;
		});
		await client.subscribeAsync([topic, `${c.prefix}/+/status`, `${c.prefix}/+/ota`], { qos: 0 });
		await sleep(Number(values.wait) * 1000);
		out(formatSummary(view.summary(), model));
		if (!values.watch && haltAt === undefined)
			return { code: Exit.Ok, message: "" };
		const end = values.timeout ? Date.now() + Number(values.timeout) * 1000 : Infinity;
		while (Date.now() < end) {
			await sleep(250);
			if (!changed)
				continue;
			changed = false;
			const summary = view.summary();
			out(formatSummary(summary, model));
			const release = view.release;
			if (haltAt !== undefined && release && release.rollout > 0 && summary.failedShare * 100 > haltAt) {
				await client.publishAsync(topic, JSON.stringify({ ...release, rollout: 0, stageFrom: 0 }), { qos: 1, retain: true });
				return { code: Exit.Halted, message: `halted ${model} ${release.version}: ${summary.stage.failed} of ${summary.stage.devices} devices in stage ${summary.stage.from}..${summary.stage.to}% failed or rolled back (over ${haltAt}%); rollout is 0` };
			}
		}
		return { code: Exit.Ok, message: "watch ended" };
	}
	finally {
		await client.endAsync(true).catch(() => undefined);
	}
}

export async function runRelease(argv: string[], out: (line: string) => void = line => console.log(line)): Promise<{ code: Exit; message: string }> {
	try {
		if (argv.includes("--help"))
			return { code: Exit.Ok, message: USAGE };
		if (argv[0] === "publish")
			return await publish(argv.slice(1), out);
		if (argv[0] === "status")
			return await status(argv.slice(1), out);
		throw new Stop(Exit.Usage, USAGE);
	}
	catch (error) {
		if (error instanceof Stop)
			return { code: error.code, message: error.message };
		return { code: Exit.Usage, message: error instanceof Error ? error.message : String(error) };
	}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	runRelease(process.argv.slice(2)).then(({ code, message }) => {
		if (message)
			(code === Exit.Ok ? console.log : console.error)(message);
		process.exit(code);
	});
}
