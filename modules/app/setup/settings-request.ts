/*
 * Settings request: the body of POST /settings turned into the settings to store, or
 * every problem with it, keyed by setting.
 *
 * - The body must be one flat JSON object (checked before JSON.parse, which aborts the
 *   XS VM on deep nesting); its keys are SETTING_KEYS, anything else is a problem.
 * - A key present replaces the stored value, `null` removes it (the image's value
 *   applies again), an absent key keeps it.
 * - The result is judged whole, as a boot would judge it: the image's config with the
 *   new settings over it goes through loadConfig (the one config table: same rules,
 *   defaults and messages, all problems together), and a client certificate and key
 *   through the IdentityCheck port (the runtime's credentials check).
 * - clientCert/clientKey: PEM (CERTIFICATE; PRIVATE KEY, i.e. unencrypted PKCS#8) or
 *   base64 DER; stored as base64 DER.
 * - No message quotes a secret (password, mqttPassword, clientKey).
 */

import { loadConfig, type ConfigContext, type RawConfig } from "../config/config";
import { describe } from "../describe";
import { decodeBase64, encodeBase64 } from "./base64";
import { overlay } from "./overlay";
import { SECRET_KEYS, SETTING_KEYS, type SettingKey, type StoredSettings } from "./settings-store";

/** The runtime's check of a client certificate and key (both DER). */
export interface IdentityCheck {
	/** Problems, each starting "clientCert: " or "clientKey: "; empty when usable. */
	check(certificate: Uint8Array, key: Uint8Array): string[];
}

export interface SettingsContext {
	image: RawConfig;
	stored: StoredSettings;
	context: ConfigContext;
	identity: IdentityCheck;
}

export type Problems = Record<string, string>;

export interface SettingsResult {
	settings?: StoredSettings;	// present when there is no problem
	problems: Problems;
}

const MAX_DER = 3_000;	// bytes of a certificate or key (an RSA-2048 key is about 1,220)
const TEXT_KEYS: readonly SettingKey[] = Object.freeze(["ssid", "password", "mqttHost", "deviceId", "mqttUser", "mqttPassword", "topicPrefix", "clientCert", "clientKey"] as SettingKey[]);

/** Depth of [ and { outside strings: JSON.parse on XS aborts on deep nesting. */
export function nesting(text: string): number {
	let depth = 0, deepest = 0, inString = false;
	for (let i = 0; i < text.length; i++) {
		const char = text[i];
		if (inString) {
			if (char === "\\")
				i++;
			else if (char === "\"")
				inString = false;
		}
		else if (char === "\"")
			inString = true;
		else if (char === "{" || char === "[")
			deepest = Math.max(deepest, ++depth);
		else if (char === "}" || char === "]")
			depth--;
	}
	return deepest;
}

/** The problem key for an unknown key: the key itself when short and printable. */
function problemKey(key: string): string {
	return /^[\x20-\x7e]{1,40}$/.test(key) ? key : "body";
}

/** PEM or base64 DER to base64 DER; a string is a problem. */
function derText(key: "clientCert" | "clientKey", text: string): { der: string } | string {
	let body = text.trim();
	const pem = /^-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----$/.exec(body);
	if (body.startsWith("-----")) {
		if (!pem)
			return "is not one PEM block";
		const label = pem[1];
		if (key === "clientCert" && label !== "CERTIFICATE")
			return `is a PEM "${label}", not a CERTIFICATE`;
		if (key === "clientKey" && label === "RSA PRIVATE KEY")
			return "is PKCS#1 (BEGIN RSA PRIVATE KEY); the device needs PKCS#8: openssl pkcs8 -topk8 -nocrypt";
		if (key === "clientKey" && label === "ENCRYPTED PRIVATE KEY")
			return "is encrypted; the device needs it unencrypted: openssl pkcs8 -topk8 -nocrypt";
		if (key === "clientKey" && label !== "PRIVATE KEY")
			return `is a PEM "${label}", not a PRIVATE KEY (PKCS#8)`;
		body = pem[2];
	}
	const der = decodeBase64(body);
	if (!der || !der.length)
		return "is neither PEM nor base64 DER";
	if (der.length > MAX_DER)
		return `is ${der.length} bytes of DER, more than ${MAX_DER}`;
	return { der: encodeBase64(der) };
}

/** Reads and judges a POST /settings body. */
export function readSettings(body: string, options: SettingsContext): SettingsResult {
	const problems: Problems = {};
	if (nesting(body) > 1)
		return { problems: { body: "must be one JSON object of settings, nothing nested" } };
	let posted: unknown;
	try {
		posted = JSON.parse(body);
	}
	catch {
		return { problems: { body: "is not JSON" } };
	}
	if (!posted || typeof posted !== "object" || Array.isArray(posted))
		return { problems: { body: "must be a JSON object of settings" } };
	const next: StoredSettings = { ...options.stored };
	const values = posted as Record<string, unknown>;
	for (const key of Object.keys(values)) {
		if (!(SETTING_KEYS as readonly string[]).includes(key)) {
			problems[problemKey(key)] = `not a setting (settings: ${SETTING_KEYS.join(", ")})`;
			continue;
		}
		const setting = key as SettingKey;
		const value = values[key];
		const secret = SECRET_KEYS.includes(setting);
		if (value === null)
			delete next[setting];
		else if (TEXT_KEYS.includes(setting) && typeof value !== "string")
			problems[key] = secret ? "expected a string" : `expected a string, got ${describe(value, 40)}`;
		else if (setting === "clientCert" || setting === "clientKey") {
			const der = derText(setting, value as string);
			if (typeof der === "string")
				problems[key] = der;
			else
				next[setting] = der.der;
		}
		else if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
			problems[key] = `expected a ${setting === "haDiscovery" ? "boolean" : "number"}, got ${describe(value, 40)}`;
		else
			next[setting] = value;
	}
	if (!next.clientCert !== !next.clientKey)
		problems[next.clientCert ? "clientKey" : "clientCert"] ??= "give both clientCert and clientKey, or neither";
	judge(next, options, problems);
	if (Object.keys(problems).length)
		return { problems };
	return { settings: next, problems };
}

/** Adds the config table's and the credentials check's problems with `next`; normalises its values. */
function judge(next: StoredSettings, options: SettingsContext, problems: Problems): void {
	const { raw, identity } = overlay(options.image, next);
	const { config, errors } = loadConfig(raw, options.context);
	for (const error of errors) {
		const colon = error.indexOf(": ");
		const key = colon > 0 ? error.slice(0, colon).split("/")[0] : "config";
		problems[key] ??= colon > 0 ? error.slice(colon + 2) : error;
	}
	if (identity && !problems.clientCert && !problems.clientKey)
		for (const problem of options.identity.check(identity.certificate, identity.key)) {
			const colon = problem.indexOf(": ");
			problems[problem.slice(0, colon)] ??= problem.slice(colon + 2);
		}
	if (next.mqttPort !== undefined)
		next.mqttPort = config.mqttPort;
	if (next.haDiscovery !== undefined)
		next.haDiscovery = config.haDiscovery;
}
