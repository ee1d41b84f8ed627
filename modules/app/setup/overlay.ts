/*
 * Overlay: the config a device runs with, the image's config with its stored settings
 * laid over it, and whether that is enough to connect.
 *
 * - A stored value replaces the image's value of the same key; keys setup cannot store
 *   (caCert, otaKey, intervals...) always come from the image: the bundled CA stays
 *   the root of trust.
 * - A stored client certificate and key (base64 DER) replace any bundled ones the image
 *   names: clientCert/clientKey become "" in the raw config and the bytes are returned
 *   as `identity` for the credentials check.
 * - needsSetup(): no broker host, or on a board no WiFi network: the device opens setup
 *   mode instead of refusing to start.
 */

import type { RawConfig } from "../config/config";
import { decodeBase64 } from "./base64";
import { SETTING_KEYS, type StoredSettings } from "./settings-store";

export interface Identity {
	certificate: Uint8Array;	// DER
	key: Uint8Array;			// PKCS#8 DER
}

export interface Overlaid {
	raw: RawConfig;
	identity: Identity | undefined;
}

export function overlay(image: RawConfig, stored: StoredSettings): Overlaid {
	const raw: RawConfig = { ...image };
	for (const key of SETTING_KEYS)
		if (key !== "clientCert" && key !== "clientKey" && stored[key] !== undefined)
			raw[key] = stored[key];
	const certificate = typeof stored.clientCert === "string" ? decodeBase64(stored.clientCert) : undefined;
	const key = typeof stored.clientKey === "string" ? decodeBase64(stored.clientKey) : undefined;
	if (!certificate || !key)
		return { raw, identity: undefined };
	raw.clientCert = "";
	raw.clientKey = "";
	return { raw, identity: { certificate, key } };
}

const given = (value: unknown) => value !== undefined && value !== null && value !== "";

export function needsSetup(raw: RawConfig, wifiRequired: boolean): boolean {
	return !given(raw.mqttHost) || (wifiRequired && !given(raw.ssid));
}
