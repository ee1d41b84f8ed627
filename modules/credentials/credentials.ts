/*
 * credentials: the TLS material the firmware bundles, loaded and checked before anything
 * starts, so that a wrong file is a config problem rather than a handshake failure at
 * every connect.
 *
 * - roots: every resource `caCert` names (several during a CA rotation). Each must be
 *   bundled and decode as an X.509 certificate. (A root without an Authority Key
 *   Identifier is accepted: XS fails only when a server also sends such a root in its
 *   chain, which a broker serving leaf + intermediate never does.)
 * - mutual TLS: the client certificate must decode and carry an RSA key (XS signs the
 *   client's CertificateVerify with RSA only); the key must be an unencrypted PKCS#8 RSA
 *   key (what XS's TLS parses) and its modulus must be the certificate's.
 * - loadCredentials() never throws: every problem is returned, naming the config key and
 *   the resource. The returned buffers are the resources themselves (flash, not heap).
 * - A client certificate and key stored by setup mode (`stored`, DER bytes) replace the
 *   bundled ones and pass the same checks; checkIdentity() is that check alone, the
 *   IdentityCheck port of app/setup (a POST /settings is judged before it is stored).
 */

import Resource from "Resource";
import BER from "ber";
import PKCS8 from "pkcs8";
import X509 from "x509";

export interface CredentialNames {
	caCerts: string[];
	clientCert: string;		// "" for none
	clientKey: string;
}

/** DER bytes: a bundled resource (flash) on the device. */
export type Der = ArrayBuffer | HostBuffer;

export interface Credentials {
	roots: Der[];
	client?: { certificate: Der; key: Der };
}

const RSA_ENCRYPTION = "1,2,840,113549,1,1,1";

function bundled(key: string, name: string, problems: string[]): Der | undefined {
	if (Resource.exists(name))
		return new Resource(name);
	problems.push(`${key}: "${name}" is not bundled (see certs/README.md)`);
	return undefined;
}

/** `"name" ` for a bundled resource, "" for bytes stored by setup. */
const label = (name: string) => name ? `"${name}" ` : "";

/** The certificate's public key, or a problem (not DER X.509). */
function decodeCertificate(key: string, name: string, data: Der, problems: string[]): X509PublicKey | undefined {
	try {
		const certificate = X509.decode(new Uint8Array(data));
		X509.decodeTBS(certificate.tbs);
		return certificate.spki;
	}
	catch {
		problems.push(`${key}: ${label(name)}is not a DER X.509 certificate (convert PEM with: openssl x509 -outform der)`);
		return undefined;
	}
}

/** The RSA modulus of an unencrypted PKCS#8 key, or a problem. */
function decodeKey(name: string, data: Der, problems: string[]): bigint | undefined {
	try {
		const outer = new BER(new Uint8Array(data));
		if (outer.getTag() !== 0x30)
			throw new Error("not a sequence");
		outer.getLength();
		outer.getInteger();	// version
		const algorithm = new BER(outer.getSequence());
		if (algorithm.getObjectIdentifier().toString() !== RSA_ENCRYPTION)
			throw new Error("not RSA");
		return PKCS8.parse(new Uint8Array(data)).modulus;
	}
	catch {
		problems.push(`clientKey: ${label(name)}is not an unencrypted PKCS#8 DER RSA key (convert with: openssl pkcs8 -topk8 -nocrypt -outform der)`);
		return undefined;
	}
}

/** Problems of a client certificate and key pair; empty when XS's TLS can use them. */
function checkPair(certificate: Der, key: Der, names: { clientCert: string; clientKey: string }, problems: string[]): void {
	const publicKey = decodeCertificate("clientCert", names.clientCert, certificate, problems);
	if (publicKey && publicKey.modulus === undefined)
		problems.push(`clientCert: ${label(names.clientCert)}does not hold an RSA key (XS's TLS signs as a client with RSA only)`);
	const modulus = decodeKey(names.clientKey, key, problems);
	if (publicKey?.modulus !== undefined && modulus !== undefined && publicKey.modulus !== modulus)
		problems.push(`clientKey: ${label(names.clientKey)}is not the key of ${names.clientCert ? `clientCert "${names.clientCert}"` : "the certificate"}`);
}

/** The IdentityCheck of app/setup: the same checks on DER bytes given to setup mode. */
export function checkIdentity(certificate: Uint8Array, key: Uint8Array): string[] {
	const problems: string[] = [];
	checkPair(certificate.slice().buffer, key.slice().buffer, { clientCert: "", clientKey: "" }, problems);
	return problems;
}

export function loadCredentials(names: CredentialNames, stored?: { certificate: Uint8Array; key: Uint8Array }): { credentials: Credentials; problems: string[] } {
	const problems: string[] = [];
	const roots: Der[] = [];
	for (const name of names.caCerts) {
		const data = bundled("caCert", name, problems);
		if (data && decodeCertificate("caCert", name, data, problems))
			roots.push(data);
	}
	const credentials: Credentials = { roots };
	if (stored) {
		const certificate = stored.certificate.slice().buffer, key = stored.key.slice().buffer;
		checkPair(certificate, key, { clientCert: "", clientKey: "" }, problems);
		if (!problems.length)
			credentials.client = { certificate, key };
		return { credentials, problems };
	}
	if (!names.clientCert || !names.clientKey)
		return { credentials, problems };
	const certificate = bundled("clientCert", names.clientCert, problems);
	const key = bundled("clientKey", names.clientKey, problems);
	if (certificate && key)
		checkPair(certificate, key, names, problems);
	if (certificate && key && !problems.length)
		credentials.client = { certificate, key };
	return { credentials, problems };
}
