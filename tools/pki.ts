/*
 * Dev PKI: a private CA and the certificates the broker and the tests need, made with
 * the openssl CLI (the machine's OpenSSL 3, no npm crypto library).
 *
 * - generatePki(dir) writes ca.key, ca.pem, ca.der (the firmware bundles DER),
 *   server.key, server.pem and server-chain.pem (leaf + CA: the device's TLS stack
 *   needs the server to send its chain). CA and server have different subjects.
 * - RSA 2048 everywhere: the ESP32's TLS stack does ECDHE_RSA quickly.
 * - The update-signing key pair too (ota-sign.ts): ota-signing.key (EC P-256, private)
 *   and ota-key.der, its public half as the firmware bundles it.
 * - Idempotent: files that exist and still verify against the CA are reused, so
 *   `npm start` can call it on every run without changing the bundled CA.
 * - makeHostServer(dir, host) issues a server certificate naming any host (npm run ota
 *   --host). The openssl CLI missing is reported as such (OPENSSL_MISSING).
 * - Test helpers add servers the device must refuse (other CA, expired, wrong name, no
 *   SAN, an EC key). Each server "<name>"
 *   is <name>.key, <name>.pem and <name>-chain.pem, which is what
 *   startBroker({certName}) expects.
 * - issueDeviceCert() makes a device's client certificate (CN = device id, subject
 *   distinct from the CA's and the server's) as DER + PKCS#8 DER and PEM.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeOtaSigningKey } from "./ota-sign";
import { OPENSSL_MISSING, openssl } from "./openssl";

export { OPENSSL_MISSING };

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
	otaSigningKey: string;	// EC P-256 private key (PEM) that signs updates
	otaKeyDer: string;		// its public half, SubjectPublicKeyInfo DER
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
[no_san_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
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

/** Writes the extension sections (plus `extra` ones) for one openssl call; returns the file's path. */
function writeConfig(dir: string, extra = ""): string {
	const path = join(dir, extra ? "openssl-ext-extra.cnf" : "openssl-ext.cnf");
	writeFileSync(path, EXTENSIONS + extra);
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
function signLeaf(dir: string, name: string, ca: string, extensions: string, days = 825, extraSections = ""): void {
	const config = writeConfig(dir, extraSections);
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
		...makeOtaSigningKey(dir),
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

/** Throws unless `host` looks like a DNS name or an IP address (it goes into openssl arguments). */
export function checkHostName(host: string): void {
	if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host))
		throw new Error(`${JSON.stringify(host)} is not a host name or an IP address`);
}

/**
 * A server certificate from the dev CA whose only name is `host` (a DNS name or an IP
 * address), for a server a device reaches by that name (`npm run ota -- --host`).
 * Reused while it verifies; returns its name ("<name>.key", "<name>-chain.pem").
 */
export function makeHostServer(dir: string, host: string): string {
	checkHostName(host);
	const name = `host-${host.replace(/:/g, "_")}-server`;
	if (!existsSync(join(dir, "ca.key")))
		throw new Error(`cannot issue a certificate for ${host}: ${join(dir, "ca.key")} is missing (the dev CA's key)`);
	if (!verifies(dir, "ca.pem", `${name}.pem`) || !existsSync(join(dir, `${name}-chain.pem`))) {
		makeCsr(dir, name, `/CN=${host}`);
		signLeaf(dir, name, "ca", "host_ext", 825, `[host_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${isIP(host) ? "IP" : "DNS"}:${host}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`);
	}
	return name;
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

/** A localhost certificate from the good CA with no SAN at all (CN=localhost only): XS matches the SAN only. */
export function makeNoSanServer(dir: string): string {
	if (!verifies(dir, "ca.pem", "no-san-server.pem")) {
		makeCsr(dir, "no-san-server", SERVER_SUBJECT);
		signLeaf(dir, "no-san-server", "ca", "no_san_ext");
	}
	return "no-san-server";
}

/** A localhost certificate from the good CA whose key is EC P-256: XS offers only RSA key exchange. */
export function makeEcKeyServer(dir: string): string {
	if (!verifies(dir, "ca.pem", "ec-server.pem")) {
		openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec-server.key"], dir);
		openssl(["req", "-config", writeConfig(dir), "-new", "-key", "ec-server.key", "-subj", SERVER_SUBJECT, "-out", "ec-server.csr"], dir);
		signLeaf(dir, "ec-server", "ca", "server_ext");
	}
	return "ec-server";
}

/** What one device needs for mutual TLS: DER for the firmware, PEM for tools. */
export interface DeviceCertificate {
	id: string;
	certDer: string;	// <dir>/device-<name>.crt.der: bundled as the device's clientCert
	keyDer: string;		// <dir>/device-<name>.key.der: unencrypted PKCS#8, the clientKey
	certPem: string;	// <dir>/device-<name>.pem
	keyPem: string;		// <dir>/device-<name>.key
}

/** Subject of a device (client) certificate: CN is the id, the broker's username. */
export const deviceSubject = (id: string) => `/OU=devices/CN=${id}`;

/**
 * Issues (or reuses, while it verifies) a client certificate with CN=`id` from the CA
 * `<ca>.pem`/`<ca>.key` in `dir`; `name` (default the id) names the files, so one id can
 * hold certificates from two CAs. RSA 2048: XS signs CertificateVerify with RSA only.
 */
export function issueDeviceCert(dir: string, id: string, options: { ca?: string; name?: string } = {}): DeviceCertificate {
	const ca = options.ca ?? "ca";
	const base = `device-${options.name ?? id}`;
	const result: DeviceCertificate = {
		id,
		certDer: join(dir, `${base}.crt.der`),
		keyDer: join(dir, `${base}.key.der`),
		certPem: join(dir, `${base}.pem`),
		keyPem: join(dir, `${base}.key`),
	};
	const current = verifies(dir, `${ca}.pem`, `${base}.pem`) && existsSync(result.keyDer) && existsSync(result.certDer)
		&& openssl(["x509", "-in", `${base}.pem`, "-noout", "-subject"], dir).includes(`CN = ${id}`);
	if (!current) {
		makeCsr(dir, base, deviceSubject(id));
		signLeaf(dir, base, ca, "client_ext");
		rmSync(join(dir, `${base}-chain.pem`), { force: true });
		openssl(["x509", "-in", `${base}.pem`, "-outform", "DER", "-out", `${base}.crt.der`], dir);
		openssl(["pkcs8", "-topk8", "-nocrypt", "-in", `${base}.key`, "-outform", "DER", "-out", `${base}.key.der`], dir);
	}
	return result;
}
