/*
 * Dev PKI: a private CA and the certificates the broker and the tests need, made with
 * the openssl CLI (the machine's OpenSSL 3, no npm crypto library).
 *
 * - generatePki(dir) writes ca.key, ca.pem, ca.der (the firmware bundles DER),
 *   server.key, server.pem and server-chain.pem (leaf + CA: the device's TLS stack
 *   needs the server to send its chain). CA and server have different subjects.
 * - RSA 2048 everywhere: the ESP32's TLS stack does ECDHE_RSA quickly.
 * - Idempotent: files that exist and still verify against the CA are reused, so
 *   `npm start` can call it on every run without changing the bundled CA.
 * - Test helpers add servers the device must refuse (other CA, expired, wrong name) and
 *   a client certificate for mutual TLS. Each server "<name>" is <name>.key,
 *   <name>.pem and <name>-chain.pem, which is what startBroker({certName}) expects.
 */

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CA_SUBJECT = "/CN=Secure MQTT Node Dev CA";
export const SERVER_SUBJECT = "/CN=localhost";

export interface Pki {
	dir: string;
	caKey: string;
	caPem: string;
	caDer: string;
	serverKey: string;
	serverPem: string;
	serverChain: string;
}

// Extension sections shared by every `openssl` call; the CLI's own openssl.cnf is never read.
const EXTENSIONS = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
# XS's TLS looks the sent CA up by its authority key identifier and fails the
# handshake when a root has none: keep it even though the root is self-signed.
authorityKeyIdentifier = keyid:always
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[wrong_name_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(args: string[], cwd: string): string {
	try {
		return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
	}
	catch (error) {
		const stderr = (error as { stderr?: string }).stderr ?? "";
		throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
	}
}

function writeConfig(dir: string): string {
	const path = join(dir, "openssl-ext.cnf");
	writeFileSync(path, EXTENSIONS);
	return path;
}

/** True when `cert` exists and verifies against `caPem` now (dates, signature, chain). */
function verifies(dir: string, caPem: string, cert: string): boolean {
	if (!existsSync(join(dir, caPem)) || !existsSync(join(dir, cert)))
		return false;
	try {
		openssl(["verify", "-CAfile", caPem, cert], dir);
		return true;
	}
	catch {
		return false;
	}
}

/** True when `cert` carries an authority key identifier (older dev CAs did not). */
function hasAuthorityKeyId(dir: string, cert: string): boolean {
	try {
		return openssl(["x509", "-in", cert, "-noout", "-ext", "authorityKeyIdentifier"], dir).includes("Authority Key Identifier");
	}
	catch {
		return false;
	}
}

function makeCa(dir: string, name: string, subject: string): void {
	const config = writeConfig(dir);
	openssl(["genrsa", "-out", `${name}.key`, "2048"], dir);
	openssl(["req", "-config", config, "-new", "-x509", "-key", `${name}.key`, "-subj", subject,
		"-days", "3650", "-sha256", "-extensions", "ca_ext", "-out", `${name}.pem`], dir);
}

function makeCsr(dir: string, name: string, subject: string): void {
	const config = writeConfig(dir);
	openssl(["genrsa", "-out", `${name}.key`, "2048"], dir);
	openssl(["req", "-config", config, "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
}

/** Signs `<name>.csr` with `<ca>.key` for `days` days, then writes `<name>-chain.pem`. */
function signLeaf(dir: string, name: string, ca: string, extensions: string, days = 825): void {
	const config = writeConfig(dir);
	openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`,
		"-set_serial", "0x" + randomSerial(), "-days", String(days), "-sha256",
		"-extfile", config, "-extensions", extensions, "-out", `${name}.pem`], dir);
	writeChain(dir, name, ca);
}

function writeChain(dir: string, name: string, ca: string): void {
	writeFileSync(join(dir, `${name}-chain.pem`), readFileSync(join(dir, `${name}.pem`), "utf8") + readFileSync(join(dir, `${ca}.pem`), "utf8"));
	rmSync(join(dir, `${name}.csr`), { force: true });
}

function randomSerial(): string {
	let hex = "";
	for (let i = 0; i < 15; i++)
		hex += Math.floor(Math.random() * 16).toString(16);
	return "1" + hex;	// leading 1: positive and never zero
}

/** Creates (or reuses) the dev CA and the localhost server certificate in `dir`. */
export function generatePki(dir: string): Pki {
	mkdirSync(dir, { recursive: true });
	const pki: Pki = {
		dir,
		caKey: join(dir, "ca.key"),
		caPem: join(dir, "ca.pem"),
		caDer: join(dir, "ca.der"),
		serverKey: join(dir, "server.key"),
		serverPem: join(dir, "server.pem"),
		serverChain: join(dir, "server-chain.pem"),
	};
	const caUsable = existsSync(pki.caKey) && verifies(dir, "ca.pem", "ca.pem") && hasAuthorityKeyId(dir, "ca.pem");
	if (!caUsable)
		makeCa(dir, "ca", CA_SUBJECT);
	if (!caUsable || !existsSync(pki.serverKey) || !existsSync(pki.serverChain) || !verifies(dir, "ca.pem", "server.pem")) {
		makeCsr(dir, "server", SERVER_SUBJECT);
		signLeaf(dir, "server", "ca", "server_ext");
	}
	if (!caUsable || !existsSync(pki.caDer))
		openssl(["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"], dir);
	return pki;
}

/** A localhost server certificate from a different CA ("rogue-ca"): the device must refuse it. */
export function makeRogueServer(dir: string): string {
	if (!verifies(dir, "rogue-ca.pem", "rogue-server.pem")) {
		makeCa(dir, "rogue-ca", "/CN=Rogue CA");
		makeCsr(dir, "rogue-server", SERVER_SUBJECT);
		signLeaf(dir, "rogue-server", "rogue-ca", "server_ext");
	}
	return "rogue-server";
}

/** A localhost server certificate signed by the good CA for January 2020 only. */
export function makeExpiredServer(dir: string): string {
	if (existsSync(join(dir, "expired-server-chain.pem")))
		return "expired-server";
	// `openssl x509` in 3.0 cannot set a notAfter in the past; `openssl ca` can, given a database.
	const work = mkdtempSync(join(tmpdir(), "smn-ca-"));
	try {
		writeFileSync(join(work, "index.txt"), "");
		writeFileSync(join(work, "serial"), randomSerial() + "\n");
		const caConfig = join(work, "ca.cnf");
		writeFileSync(caConfig, `[ca]
default_ca = dev
[dev]
database = ${join(work, "index.txt")}
new_certs_dir = ${work}
serial = ${join(work, "serial")}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[any]
commonName = supplied
${EXTENSIONS}`);
		makeCsr(dir, "expired-server", SERVER_SUBJECT);
		openssl(["ca", "-batch", "-config", caConfig, "-notext", "-cert", "ca.pem", "-keyfile", "ca.key",
			"-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extensions", "server_ext",
			"-in", "expired-server.csr", "-out", "expired-server.pem"], dir);
		writeChain(dir, "expired-server", "ca");
	}
	finally {
		rmSync(work, { recursive: true, force: true });
	}
	return "expired-server";
}

/** A valid certificate from the good CA whose only name is wrong.example. */
export function makeWrongNameServer(dir: string): string {
	if (!verifies(dir, "ca.pem", "wrong-name-server.pem")) {
		makeCsr(dir, "wrong-name-server", "/CN=wrong.example");
		signLeaf(dir, "wrong-name-server", "ca", "wrong_name_ext");
	}
	return "wrong-name-server";
}

/** A client certificate for mutual TLS: client.pem, client.key (PEM) and client.der. */
export function makeClientCert(dir: string, subject = "/CN=node-client"): { cert: string; key: string } {
	if (!verifies(dir, "ca.pem", "client.pem")) {
		makeCsr(dir, "client", subject);
		signLeaf(dir, "client", "ca", "client_ext");
		openssl(["x509", "-in", "client.pem", "-outform", "DER", "-out", "client.der"], dir);
	}
	return { cert: join(dir, "client.pem"), key: join(dir, "client.key") };
}
