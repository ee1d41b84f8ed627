/*
 * `npm run pki -- <command>`: the dev PKI's commands for a developer.
 *
 * - `device <id>`: issues a client certificate with CN = <id> from the dev CA
 *   (.dev/pki, made on first use) and installs it where the firmware bundles it:
 *   certs/device.crt.der and certs/device.key.der (PKCS#8 DER, git-ignored). The PEM
 *   copies for Node tools and mosquitto_pub stay in .dev/pki/device-<id>.pem/.key. It
 *   never replaces a certs/device.crt.der that another CA issued (--force does).
 * - `broker-kit <dir> [--mode mtls|password] [--prefix devices] [--ha-prefix homeassistant]
 *   [--port 8883]`: writes a commented mosquitto.conf and acl for a production-like
 *   broker (broker/kit.ts), and copies the dev CA and server certificate next to them
 *   where none are there yet. It runs as printed (`mosquitto -c <dir>/mosquitto.conf`)
 *   whoever wrote it: written by root, the files and the data folder belong to the
 *   account mosquitto drops to (`mosquitto`, else `nobody`, as mosquitto itself picks);
 *   written by anyone else, to that user, whom the config names.
 * - A wrong argument is named, with the rule and an example; --help prints the usage.
 * Exit status: 0 done (or --help), 2 usage or refusal.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../modules/app/config/config";
import { AUTH_MODES, HA_PREFIX, MESSAGE_SIZE_LIMIT, aclText, kitConfig, type AuthMode } from "./broker/kit";
import { PKI_DIR, ROOT } from "./dev-state";
import { generatePki, issueDeviceCert } from "./pki";

const CERTS_DIR = join(ROOT, "certs");
const USAGE = `usage: npm run pki -- device <id> [--force]
       npm run pki -- broker-kit <dir> [--mode mtls|password] [--prefix devices] [--ha-prefix homeassistant] [--port 8883]
  device <id>        a client certificate for device <id> from the dev CA, installed in certs/
  broker-kit <dir>   a production-like Mosquitto config (mosquitto.conf, acl) in <dir>
  --mode             mtls: devices log in with client certificates (default); password: with a password file
  --prefix           the devices' topic prefix in the ACL (default devices)
  --ha-prefix        Home Assistant's discovery prefix in the ACL (default homeassistant)
  --port             the TLS listener's port (default 8883)
  --help             this text`;

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
		throw new Usage(`device id ${JSON.stringify(id ?? "")}: 1..64 of A-Z a-z 0-9 _ - (e.g. npm run pki -- device node-7)`);
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

/** The account mosquitto runs the kit as: when root, the one it drops to; else this user. */
function kitAccount(): { name: string; uid?: number; gid?: number } {
	if (process.getuid?.() !== 0)
		return { name: userInfo().username };
	// mosquitto drops to "mosquitto", or to "nobody" where that account does not exist.
	for (const name of ["mosquitto", "nobody"]) {
		try {
			const id = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
			return { name, uid: id("-u"), gid: id("-g") };
		}
		catch { /* no such account */ }
	}
	throw new Usage("neither a mosquitto nor a nobody account exists: create one (useradd --system mosquitto) and run broker-kit again");
}

/**
 * As root: the first folder or file of the kit that `account` cannot reach (a folder
 * above the kit closed to it, such as a mkdtemp folder or /root), else undefined.
 * Checked with runuser, where there is one.
 */
function unreachable(account: string, kit: string, readable: string[], writable: string): string | undefined {
	const can = (test: string, path: string) => spawnSync("runuser", ["-u", account, "--", "test", test, path], { stdio: "ignore" });
	if (can("-d", "/").error)
		return undefined;	// no runuser here: nothing to check with
	const folders: string[] = [];
	for (let folder = kit; ; folder = dirname(folder)) {
		folders.unshift(folder);
		if (dirname(folder) === folder)
			break;
	}
	return folders.find(folder => can("-x", folder).status !== 0)
		?? readable.find(file => can("-r", file).status !== 0)
		?? (can("-w", writable).status !== 0 ? writable : undefined);
}

function brokerKit(dir: string | undefined, mode: string, prefix: string, haPrefix: string, port: number, portText: string): void {
	if (!dir)
		throw new Usage("broker-kit needs the folder to write the kit to (e.g. npm run pki -- broker-kit ./broker --mode mtls)");
	if (!AUTH_MODES.includes(mode as AuthMode))
		throw new Usage(`--mode ${JSON.stringify(mode)}: one of ${AUTH_MODES.join(", ")} (e.g. --mode mtls)`);
	if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535)
		throw new Usage(`--port ${JSON.stringify(portText)}: a TCP port, 1..65535 (e.g. --port 8883)`);
	const [problem] = loadConfig({ mqttHost: "x", topicPrefix: prefix, haPrefix }, { defaultDeviceId: "x", wifiRequired: false }).errors;
	if (problem) {
		const ha = problem.startsWith("haPrefix");
		throw new Usage(`${problem.replace(/^(haPrefix|topicPrefix)/, ha ? "--ha-prefix" : "--prefix")} (e.g. ${ha ? "--ha-prefix homeassistant" : "--prefix devices"})`);
	}
	const account = kitAccount();
	const kit = resolve(dir);
	mkdirSync(kit, { recursive: true });
	const files = {
		cafile: join(kit, "ca.pem"), certfile: join(kit, "server-chain.pem"), keyfile: join(kit, "server.key"),
		aclFile: join(kit, "acl"), passwordFile: join(kit, "passwd"),
	};
	const dataDir = join(kit, "data");
	mkdirSync(dataDir, { recursive: true });
	const copied: string[] = [];
	generatePki(PKI_DIR);
	for (const [from, to] of [["ca.pem", files.cafile], ["server-chain.pem", files.certfile], ["server.key", files.keyfile]]) {
		if (!existsSync(to)) {
			copyFileSync(join(PKI_DIR, from), to);
			copied.push(to);
		}
	}
	if (mode === "password" && !existsSync(files.passwordFile))
		writeFileSync(files.passwordFile, "", { mode: 0o600 });
	writeFileSync(join(kit, "mosquitto.conf"), kitConfig({ mode: mode as AuthMode, prefix, files, ecdheFirst: true }, { runAs: account.name, dataDir }, port));
	writeFileSync(files.aclFile, aclText(prefix, haPrefix));
	// Started as root, mosquitto reads the key, ACL and passwords, and writes its state, as the account it drops to.
	const owned = [files.cafile, files.certfile, files.keyfile, files.aclFile, ...mode === "password" ? [files.passwordFile] : [], dataDir];
	if (account.uid !== undefined)
		for (const file of owned)
			chownSync(file, account.uid, account.gid!);
	console.log(`wrote ${join(kit, "mosquitto.conf")} (${mode} mode, port ${port}, state in ${dataDir}, messages up to ${MESSAGE_SIZE_LIMIT} bytes) and ${files.aclFile} (devices under ${prefix}/<id>/, Home Assistant discovery under ${haPrefix}/)`);
	if (copied.length)
		console.log(`copied the DEV CA and server certificate (replace them with your own, see the README):\n  ${copied.join("\n  ")}`);
	if (account.uid !== undefined) {
		console.log(`owner:   ${account.name} (mosquitto started as root switches to it): the key, ACL${mode === "password" ? ", password file" : ""} and data folder belong to it`);
		const blocked = unreachable(account.name, kit, owned.slice(0, -1), dataDir);
		if (blocked)
			console.log(`warning: ${account.name} cannot reach ${blocked} (a folder above the kit is closed to it, as /root or a mkdtemp folder is): mosquitto would exit "Unable to open" or "Permission denied". Write the kit where ${account.name} can enter (e.g. /etc/mosquitto/kit), or open the folders above it (chmod o+x)`);
	}
	console.log(mode === "mtls"
		? `devices: npm run pki -- device <id> (or your CA, CN = device id); operator: a certificate with CN=operator`
		: `devices: mosquitto_passwd ${files.passwordFile} <device-id>; operator: mosquitto_passwd ${files.passwordFile} operator`);
	console.log(`run:     mosquitto -c ${join(kit, "mosquitto.conf")}`);
	console.log(account.uid === undefined
		? `         as ${account.name}, who owns the files (started as root, mosquitto switches to ${account.name})`
		: `         as root (it switches to ${account.name}) or as ${account.name}`);
}

/** Runs one command; a wrong argument or a refusal throws (its message says which and why). */
export function runPki(argv: string[], out: (text: string) => void = text => console.log(text)): void {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv, allowPositionals: true, options: {
				force: { type: "boolean", default: false },
				mode: { type: "string", default: "mtls" },
				prefix: { type: "string", default: "devices" },
				"ha-prefix": { type: "string", default: HA_PREFIX },
				port: { type: "string", default: "8883" },
				help: { type: "boolean", default: false },
			},
		});
	}
	catch (error) {
		// parseArgs names the option ("Unknown option '--x'", "Option '--mode <value>' argument missing").
		throw new Usage(`${error instanceof Error ? error.message : error}\n${USAGE}`);
	}
	const { positionals, values } = parsed;
	if (values.help) {
		out(USAGE);
		return;
	}
	const [command, argument, ...rest] = positionals;
	if (rest.length)
		throw new Usage(`unexpected ${rest.map(arg => JSON.stringify(arg)).join(" ")}: ${command} takes one ${command === "device" ? "device id" : "folder"}\n${USAGE}`);
	if (command === "device")
		device(argument, values.force === true);
	else if (command === "broker-kit")
		brokerKit(argument, values.mode ?? "mtls", values.prefix ?? "devices", values["ha-prefix"] ?? HA_PREFIX, Number(values.port), values.port ?? "");
	else
		throw new Usage(`${command === undefined ? "no command" : `unknown command ${JSON.stringify(command)}`}: device or broker-kit\n${USAGE}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	try {
		runPki(process.argv.slice(2));
	}
	catch (error) {
		console.error(error instanceof Error ? error.message : String(error));
		process.exit(2);
	}
}
