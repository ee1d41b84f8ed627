/*
 * deviceTls: the TLS client settings the board has, for every Node client of the
 * firmware's servers (node/transport: the broker; node/fetcher: update servers), so a
 * setup that works on Node also works on the board.
 *
 * - TLS 1.2 only: XS's ssl module speaks TLS 1.2 at most (a 1.3-only server is refused).
 * - Key exchange RSA or ECDHE_RSA only, the suites of the SDK's ssl_ciphersuites.js
 *   (DHE_RSA is off in the firmware): a server certificate with an EC key has no
 *   suite in common and is refused. (0xC02B, which the SDK lists as ECDHE_RSA, is
 *   ECDHE-ECDSA on the wire: not offered.)
 * - The server name is checked against the SAN only: a certificate without one is
 *   refused (Node alone would fall back to the subject CN; XS does not).
 * Limits: OpenSSL's certificate checks are not XS's in every detail (for example XS
 * needs the root's authority key identifier, which Node does not).
 */

import { checkServerIdentity, type PeerCertificate, type SecureVersion } from "node:tls";

export const DEVICE_CIPHERS = [
	"ECDHE-RSA-AES128-GCM-SHA256",	// 0xC02F
	"ECDHE-RSA-AES128-SHA256",		// 0xC027
	"AES128-SHA256",				// 0x003C
	"AES256-SHA256",				// 0x003D
	"AES128-SHA",					// 0x002F
	"AES256-SHA",					// 0x0035
].join(":");

/** Node's name check without the fallback to the CN. */
export function checkSanOnly(host: string, certificate: PeerCertificate): Error | undefined {
	if (!certificate.subjectaltname)
		return Object.assign(new Error(`the certificate for ${host} has no subjectAltName (the device matches the SAN only, never the CN)`), { code: "ERR_TLS_CERT_NO_SAN" });
	return checkServerIdentity(host, certificate);
}

export const deviceTls: {
	minVersion: SecureVersion;
	maxVersion: SecureVersion;
	ciphers: string;
	checkServerIdentity: typeof checkSanOnly;
} = {
	minVersion: "TLSv1.2",
	maxVersion: "TLSv1.2",
	ciphers: DEVICE_CIPHERS,
	checkServerIdentity: checkSanOnly,
};
