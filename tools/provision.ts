/*
 * `npm run provision -- <setup-url> --code <code> [settings...]`: sets a device up over
 * its setup server (setup mode) with the same POST /settings a phone's browser sends.
 *
 * - Settings: --ssid, --password, --mqtt-host, --mqtt-port, --device-id, --mqtt-user,
 *   --mqtt-password, --topic-prefix, --ha-discovery true|false; --clear <key> removes a
 *   stored value (the image's applies again).
 * - Mutual TLS: --mtls <id> issues the device's certificate (CN = id) from the dev PKI
 *   (--pki <dir>, default .dev/pki) and sets deviceId to the id unless given; or
 *   --cert <file> --key <file> from the owner's own CA (PEM or DER; the key PKCS#8).
 * - Prints the answer's status and body (which never holds a secret) and exits 0 on
 *   200, 1 otherwise. Scriptable: one invocation per device of a batch.
 * Only loopback setup URLs are used in this repository's tests and `npm start`; a real
 * device's is http://192.168.4.1/ on its access point.
 */

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { PKI_DIR } from "./dev-state";
import { issueDeviceCert } from "./pki";

export type Settings = Record<string, string | number | boolean | null>;

export interface ProvisionAnswer {
	status: number;
	body: string;
}

/** POSTs `settings` to `<url>/settings` with the code; resolves with the answer. */
export async function provision(url: string, code: string, settings: Settings): Promise<ProvisionAnswer> {
	const target = new URL("settings", url.endsWith("/") ? url : url + "/");
	const response = await fetch(target, {
		method: "POST",
		headers: { "Content-Type": "application/json", Authorization: `Bearer ${code}` },
		body: JSON.stringify(settings),
	});
	return { status: response.status, body: await response.text() };
}

/** The certificate and key of device `id` from a PKI folder, as the setup request carries them. */
export function mtlsIdentity(id: string, pkiDir = PKI_DIR): { clientCert: string; clientKey: string } {
	const issued = issueDeviceCert(pkiDir, id);
	return { clientCert: readFileSync(issued.certDer).toString("base64"), clientKey: readFileSync(issued.keyDer).toString("base64") };
}

const FLAGS: Record<string, string> = {
	"--ssid": "ssid", "--password": "password", "--mqtt-host": "mqttHost", "--mqtt-port": "mqttPort",
	"--device-id": "deviceId", "--mqtt-user": "mqttUser", "--mqtt-password": "mqttPassword",
	"--topic-prefix": "topicPrefix", "--ha-discovery": "haDiscovery",
};

const USAGE = "usage: npm run provision -- <setup-url> --code <code> [--ssid S] [--password P] [--mqtt-host H] [--mqtt-port N] [--device-id ID] [--mqtt-user U] [--mqtt-password P] [--topic-prefix X] [--ha-discovery true|false] [--mtls <id> [--pki <dir>] | --cert <file> --key <file>] [--clear <key>]";

/** The request a command line asks for, or a usage problem. */
export function parseArguments(args: string[]): { url: string; code: string; settings: Settings } | string {
	const [url, ...rest] = args;
	if (!url || url.startsWith("--"))
		return USAGE;
	const settings: Settings = {};
	let code = "", mtls = "", pki = PKI_DIR, cert = "", key = "";
	for (let i = 0; i < rest.length; i += 2) {
		const flag = rest[i], value = rest[i + 1];
		if (value === undefined)
			return `${flag}: a value is missing\n${USAGE}`;
		if (FLAGS[flag])
			settings[FLAGS[flag]] = FLAGS[flag] === "mqttPort" && /^\d+$/.test(value) ? Number(value) : FLAGS[flag] === "haDiscovery" ? value === "true" : value;
		else if (flag === "--code") code = value;
		else if (flag === "--mtls") mtls = value;
		else if (flag === "--pki") pki = value;
		else if (flag === "--cert") cert = value;
		else if (flag === "--key") key = value;
		else if (flag === "--clear") settings[value] = null;
		else
			return `${flag}: unknown option\n${USAGE}`;
	}
	if (!code)
		return `--code is required (the device prints it: "setup: open on port <port>, code <code>")\n${USAGE}`;
	if (mtls && (cert || key))
		return "give --mtls <id> or --cert/--key, not both";
	if (!cert !== !key)
		return "give both --cert and --key";
	if (mtls) {
		Object.assign(settings, mtlsIdentity(mtls, pki));
		settings.deviceId ??= mtls;
	}
	if (cert) {
		settings.clientCert = readFileSync(cert).toString(readFileSync(cert).subarray(0, 5).toString() === "-----" ? "utf8" : "base64");
		settings.clientKey = readFileSync(key).toString(readFileSync(key).subarray(0, 5).toString() === "-----" ? "utf8" : "base64");
	}
	return { url, code, settings };
}

async function main(): Promise<void> {
	const parsed = parseArguments(process.argv.slice(2));
	if (typeof parsed === "string") {
		console.error(parsed);
		process.exit(2);
	}
	const answer = await provision(parsed.url, parsed.code, parsed.settings);
	console.log(`provision: POST ${new URL("settings", parsed.url.endsWith("/") ? parsed.url : parsed.url + "/")} -> ${answer.status} ${answer.body}`);
	process.exit(answer.status === 200 ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href)
	main().catch(error => {
		console.error(`provision: ${error instanceof Error ? error.message : error}`);
		process.exit(1);
	});
