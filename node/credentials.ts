/*
 * Node counterpart of modules/credentials: finds and checks the files the config names
 * (`caCert` roots, `clientCert`, `clientKey`) in a certificates directory, so that the
 * emulator refuses the same configs the firmware refuses, before anything starts.
 *
 * - Each root must exist and be an X.509 certificate (DER, or PEM for tools).
 * - The client certificate must hold an RSA key, the key must be an unencrypted PKCS#8
 *   DER RSA key (what XS parses), and the two must belong together.
 * - Problems name the config key and the file; nothing throws.
 * Not checked here: the roots' Authority Key Identifier, which only XS's TLS needs.
 */

import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rootNames, type Config } from "../modules/app/config/config";

export interface CredentialFiles {
	caFiles: string[];
	clientCertFile?: string;
	clientKeyFile?: string;
}

function certificate(key: string, name: string, path: string, problems: string[]): X509Certificate | undefined {
	try {
		return new X509Certificate(readFileSync(path));
	}
	catch {
		problems.push(`${key}: ${JSON.stringify(name)} is not an X.509 certificate (DER)`);
		return undefined;
	}
}

/** Checks the files; `problems` is empty when the device may start with `files`. */
export function findCredentials(config: Pick<Config, "caCert" | "clientCert" | "clientKey">, certsDir: string): { files: CredentialFiles; problems: string[] } {
	const problems: string[] = [];
	const located = (key: string, name: string) => {
		const path = join(certsDir, name);
		if (existsSync(path))
			return path;
		problems.push(`${key}: ${JSON.stringify(name)} not found in ${certsDir}`);
		return undefined;
	};
	const caFiles: string[] = [];
	for (const name of rootNames(config.caCert)) {
		const path = located("caCert", name);
		if (path && certificate("caCert", name, path, problems))
			caFiles.push(path);
	}
	const files: CredentialFiles = { caFiles };
	if (!config.clientCert || !config.clientKey)
		return { files, problems };
	const certFile = located("clientCert", config.clientCert);
	const keyFile = located("clientKey", config.clientKey);
	const cert = certFile && certificate("clientCert", config.clientCert, certFile, problems);
	if (cert && cert.publicKey.asymmetricKeyType !== "rsa")
		problems.push(`clientCert: ${JSON.stringify(config.clientCert)} does not hold an RSA key (XS's TLS signs as a client with RSA only)`);
	let key;
	if (keyFile) {
		try {
			key = createPrivateKey({ key: readFileSync(keyFile), format: "der", type: "pkcs8" });
			if (key.asymmetricKeyType !== "rsa")
				throw new Error("not RSA");
		}
		catch {
			key = undefined;
			problems.push(`clientKey: ${JSON.stringify(config.clientKey)} is not an unencrypted PKCS#8 DER RSA key (convert with: openssl pkcs8 -topk8 -nocrypt -outform der)`);
		}
	}
	if (cert && key && !cert.checkPrivateKey(key))
		problems.push(`clientKey: ${JSON.stringify(config.clientKey)} is not the key of clientCert ${JSON.stringify(config.clientCert)}`);
	if (!problems.length) {
		files.clientCertFile = certFile;
		files.clientKeyFile = keyFile;
	}
	return { files, problems };
}
