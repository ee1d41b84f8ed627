/*
 * How `npm start` identifies its device and operator to the dev broker, by mode:
 *
 * - tls (default): server-only TLS, anonymous; the device proves nothing.
 * - mtls (`--mtls`): the broker kit's mutual-TLS broker. The device gets a client
 *   certificate with CN = its id from the dev PKI (DER for the firmware, bundled into
 *   the simulator build); the monitor, mosquitto_sub and `npm run ota` use the
 *   "operator" certificate.
 * - password (`--password`): the broker kit's password-file broker. Fresh random
 *   passwords each run for the device (user = its id) and the operator.
 *
 * Everything here lives in .dev/pki (git-ignored); nothing touches certs/.
 */

import { randomBytes } from "node:crypto";
import { relative } from "node:path";
import type { IClientOptions } from "mqtt";
import type { BrokerAuth } from "./broker/types";
import { OPERATOR } from "./broker/kit";
import { ROOT } from "./dev-state";
import { issueDeviceCert } from "./pki";

export type StartMode = "tls" | "mtls" | "password";

/** The operator's login, as .dev/broker.json keeps it for `npm run ota`. */
export interface OperatorLogin {
	cert?: string;	// PEM paths (mtls)
	key?: string;
	username?: string;	// password mode
	password?: string;
}

export interface DevIdentity {
	auth?: BrokerAuth;
	/** Config the device gets on top of npm start's own. */
	deviceConfig: Record<string, string>;
	/** Files the simulator build bundles (the device certificate and key). */
	bundle: string[];
	operator: OperatorLogin;
	/** The same login as mosquitto_sub/mosquitto_pub flags. */
	flags: string;
}

export function startMode(argv: string[]): StartMode {
	const modes = argv.filter(arg => arg === "--mtls" || arg === "--password");
	const unknown = argv.filter(arg => arg !== "--mtls" && arg !== "--password");
	if (unknown.length || modes.length > 1)
		throw new Error("usage: npm start [-- --mtls | --password]");
	return modes[0] === "--mtls" ? "mtls" : modes[0] === "--password" ? "password" : "tls";
}

/** mqtt.js options for the operator's login. */
export function operatorOptions(login: OperatorLogin | undefined, read: (path: string) => Buffer): Partial<IClientOptions> {
	return {
		cert: login?.cert ? read(login.cert) : undefined,
		key: login?.key ? read(login.key) : undefined,
		username: login?.username,
		password: login?.password,
	};
}

export function devIdentity(mode: StartMode, deviceId: string, pkiDir: string): DevIdentity {
	if (mode === "mtls") {
		const device = issueDeviceCert(pkiDir, deviceId);
		const operator = issueDeviceCert(pkiDir, OPERATOR);
		const name = (path: string) => path.slice(pkiDir.length + 1);
		return {
			auth: { mode: "mtls" },
			deviceConfig: { clientCert: name(device.certDer), clientKey: name(device.keyDer) },
			bundle: [device.certDer, device.keyDer],
			operator: { cert: operator.certPem, key: operator.keyPem },
			flags: `--cert ${relative(ROOT, operator.certPem)} --key ${relative(ROOT, operator.keyPem)}`,
		};
	}
	if (mode === "password") {
		const secret = () => randomBytes(12).toString("base64url");
		const device = secret();
		const operator = secret();
		return {
			auth: { mode: "password", passwords: { [deviceId]: device, [OPERATOR]: operator } },
			deviceConfig: { mqttUser: deviceId, mqttPassword: device },
			bundle: [],
			operator: { username: OPERATOR, password: operator },
			flags: `-u ${OPERATOR} -P ${operator}`,
		};
	}
	return { deviceConfig: {}, bundle: [], operator: {}, flags: "" };
}
