/*
 * `npm run pki -- <command>`: the dev PKI's commands for a developer.
 *
 * - `device <id>`: issues a client certificate with CN = <id> from the dev CA
 *   (.dev/pki, made on first use) and installs it where the firmware bundles it:
 *   certs/device.crt.der and certs/device.key.der (PKCS#8 DER, git-ignored). The PEM
 *   copies for Node tools and mosquitto_pub stay in .dev/pki/device-<id>.pem/.key. It
 *   never replaces a certs/device.crt.der that another CA issued (--force does).
 * - `broker-kit <dir> [--mode mtls|password] [--prefix devices] [--port 8883]`: writes
 *   a commented mosquitto.conf and acl for a production-like broker (broker/kit.ts), and
 *   copies the dev CA and server certificate next to them where none are there yet.
 * Exit status: 0 done, 2 usage or refusal.
 */

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../modules/app/config/config";
import { AUTH_MODES, aclText, kitConfig, type AuthMode } from "./broker/kit";
import { PKI_DIR, ROOT } from "./dev-state";
import { generatePki, issueDeviceCert } from "./pki";

const CERTS_DIR = join(ROOT, "certs");
const USAGE = `usage: npm run pki -- device <id> [--force]
       npm run pki -- broker-kit <dir> [--mode mtls|password] [--prefix devices] [--port 8883]`;

class Usage extends Error {}

function issuedByDevCa(certDer: string): boolean {
	try {
		execFileSync("openssl", ["verify", "-CAfile", join(PKI_DIR, "ca.pem"), "-purpose", "sslclient", certDer], { stdio: "ignore" });
		return true;
	}
	catch {
		return false;
	}
}

/** Subject, issuer and end date of a certificate, as openssl prints them. */
function describeCert(path: string): string {
	return execFileSync("openssl", ["x509", "-in", path, "-noout", "-subject", "-issuer", "-enddate"], { encoding: "utf8" }).trim();
}

function device(id: string | undefined, force: boolean): void {
	if (!id || loadConfig({ mqttHost: "x", deviceId: id }, { defaultDeviceId: "", wifiRequired: false }).errors.length)
		throw new Usage(`device id ${JSON.stringify(id ?? "")}: 1..64 of A-Z a-z 0-9 _ -\n${USAGE}`);
	generatePki(PKI_DIR);
	const issued = issueDeviceCert(PKI_DIR, id);
	const certDer = join(CERTS_DIR, "device.crt.der");
	const keyDer = join(CERTS_DIR, "device.key.der");
	if (existsSync(certDer) && !force && !issuedByDevCa(certDer))
		throw new Usage(`${certDer} was not issued by the dev CA: move it away (or pass --force to replace it)`);
	mkdirSync(CERTS_DIR, { recursive: true });
	copyFileSync(issued.certDer, certDer);
	copyFileSync(issued.keyDer, keyDer);
	const bundledCa = join(CERTS_DIR, "ca.der");
	if (!existsSync(bundledCa))
		copyFileSync(join(PKI_DIR, "ca.der"), bundledCa);
	console.log(`${describeCert(issued.certPem)}
  ${certDer}   certificate (DER)       clientCert=device.crt.der
  ${keyDer}   key (PKCS#8 DER)        clientKey=device.key.der
  ${issued.certPem}, ${issued.keyPem}   the same in PEM (Node, mosquitto_pub)
build:  mcconfig -d -m -p esp32/<board> ... deviceId=${id} clientCert=device.crt.der clientKey=device.key.der`);
}

function brokerKit(dir: string | undefined, mode: string, prefix: string, port: number): void {
	if (!dir || !AUTH_MODES.includes(mode as AuthMode) || !Number.isInteger(port) || port < 1 || port > 65535)
		throw new Usage(USAGE);
	if (loadConfig({ mqttHost: "x", topicPrefix: prefix }, { defaultDeviceId: "x", wifiRequired: false }).errors.length)
		throw new Usage(`--prefix ${JSON.stringify(prefix)}: a topic prefix without + # or a leading/trailing /`);
	const kit = resolve(dir);
	mkdirSync(kit, { recursive: true });
	const files = {
		cafile: join(kit, "ca.pem"), certfile: join(kit, "server-chain.pem"), keyfile: join(kit, "server.key"),
		aclFile: join(kit, "acl"), passwordFile: join(kit, "passwd"),
	};
	const copied: string[] = [];
	generatePki(PKI_DIR);
	for (const [from, to] of [["ca.pem", files.cafile], ["server-chain.pem", files.certfile], ["server.key", files.keyfile]]) {
		if (!existsSync(to)) {
			copyFileSync(join(PKI_DIR, from), to);
			copied.push(to);
		}
	}
	if (mode === "password" && !existsSync(files.passwordFile))
		writeFileSync(files.passwordFile, "");
	writeFileSync(join(kit, "mosquitto.conf"), kitConfig({ mode: mode as AuthMode, prefix, files, ecdheFirst: true }, port));
	writeFileSync(files.aclFile, aclText(prefix));
	console.log(`wrote ${join(kit, "mosquitto.conf")} (${mode} mode, port ${port}) and ${files.aclFile}`);
	if (copied.length)
		console.log(`copied the DEV CA and server certificate (replace them with your own, see the README):\n  ${copied.join("\n  ")}`);
	console.log(mode === "mtls"
		? `devices: npm run pki -- device <id> (or your CA, CN = device id); operator: a certificate with CN=operator`
		: `devices: mosquitto_passwd ${files.passwordFile} <device-id>; operator: mosquitto_passwd ${files.passwordFile} operator`);
	console.log(`run:     mosquitto -c ${join(kit, "mosquitto.conf")}`);
}

function main(argv: string[]): void {
	const { positionals, values } = parseArgs({
		args: argv, allowPositionals: true, options: {
			force: { type: "boolean", default: false },
			mode: { type: "string", default: "mtls" },
			prefix: { type: "string", default: "devices" },
			port: { type: "string", default: "8883" },
		},
	});
	const [command, argument, ...rest] = positionals;
	if (rest.length)
		throw new Usage(USAGE);
	if (command === "device")
		device(argument, values.force === true);
	else if (command === "broker-kit")
		brokerKit(argument, values.mode ?? "mtls", values.prefix ?? "devices", Number(values.port));
	else
		throw new Usage(USAGE);
}

try {
	main(process.argv.slice(2));
}
catch (error) {
	console.error(error instanceof Error ? error.message : String(error));
	process.exit(2);
}
