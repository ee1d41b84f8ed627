/*
 * Broker kit: the Mosquitto 2 configuration a production-like broker for these devices
 * needs, as commented text. One owner for those settings: `npm run pki -- broker-kit`
 * writes them to files, and the dev/test broker launcher (broker/broker.ts) starts Mosquitto
 * with the same lines in its mTLS and password modes.
 *
 * - TLS 1.2 minimum (what XS speaks), the server's chain sent, ECDHE suites first when
 *   `ecdheFirst` (the tests leave OpenSSL's default order, which lets a DHE-capable
 *   client get DHE: the firmware must cope on its own, see manifest.json).
 * - mtls: require_certificate + use_identity_as_username (the certificate's CN, the
 *   device id, is the username); password: password_file, the MQTT user name must be
 *   the device id. Never anonymous.
 * - ACL: `pattern readwrite <prefix>/%u/#`, so a device reaches only its own topics, plus
 *   what Home Assistant discovery needs (haDiscovery): publish its own entities'
 *   `<haPrefix>/+/%u/+/config`, read and clear the one device-based message earlier
 *   firmware published (`<haPrefix>/device/%u/config`), read `<haPrefix>/status`. The operator account
 *   (backends, dashboards, `npm run ota`, Home Assistant) reaches `<prefix>/#` and
 *   `<haPrefix>/#`.
 * - Fleet releases: every device may read `<fleetPrefix>/+/release` and nothing else
 *   there (the broker cannot tell a device's model; releases are signed, so reading
 *   another model's is harmless); only the operator publishes them (`npm run release`).
 * - kitConfig() runs as written by root or by anyone else: it names the account
 *   (`user`) mosquitto drops to when started as root, which must own the files (the
 *   CLI chowns them, tools/pki-cli.ts), and keeps its state (persistence) in the kit's
 *   own data folder, never a system broker's /var/lib/mosquitto.
 * - message_size_limit MESSAGE_SIZE_LIMIT: above the largest message a device or the
 *   operator sends (7,168 bytes), so a huge publish is dropped by the broker before it
 *   reaches a board: the second line behind the XS transport, which skips any incoming
 *   message over 2 KB without holding it (modules/mqtt-tls/oversize.ts).
 */

export type AuthMode = "mtls" | "password";

export const AUTH_MODES: readonly AuthMode[] = ["mtls", "password"];

/** The account the ACL lets read and write every device's topics. */
export const OPERATOR = "operator";

/** The Home Assistant discovery prefix the ACL allows by default (config haPrefix's default). */
export const HA_PREFIX = "homeassistant";

/** ECDHE_RSA first (what XS does fastest), AES-GCM before CBC; nothing without forward secrecy. */
export const ECDHE_FIRST = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-CHACHA20-POLY1305";

export interface KitFiles {
	cafile: string;			// PEM: the CA that issued the device certificates (and the server's)
	certfile: string;		// PEM: the server certificate followed by its chain
	keyfile: string;		// PEM: the server key (RSA)
	aclFile: string;
	passwordFile?: string;	// password mode
}

/** Where a kit lives: its files, the account that runs it, its state folder. */
export interface KitPlace {
	/** The account mosquitto switches to when started as root (it must own the files). */
	runAs: string;
	/** Mosquitto's persistence folder (retained messages), the kit's own. */
	dataDir: string;
}

export interface KitOptions {
	mode: AuthMode;
	prefix: string;
	files: KitFiles;
	/** ECDHE-first cipher list (the kit); false keeps OpenSSL's default order (the tests). */
	ecdheFirst: boolean;
	operator?: string;
}

/** The listener's TLS and authentication settings, to follow a `listener` line. */
export function securitySettings(options: KitOptions): string {
	const { files } = options;
	const lines = [
		"# The CA that issued the device certificates (and here the server's). A fleet moving",
		"# to a new CA: put both in this file, then devices built with caCert=\"old.der,new.der\".",
		`cafile ${files.cafile}`,
		"# The server certificate FOLLOWED BY ITS CHAIN (XS's TLS needs the chain), RSA key",
		"# (XS does RSA, DHE_RSA and ECDHE_RSA key exchange only), SAN = the name devices dial.",
		`certfile ${files.certfile}`,
		`keyfile ${files.keyfile}`,
		"# TLS 1.2 is what the firmware speaks; mosquitto takes this as the minimum.",
		"tls_version tlsv1.2",
	];
	if (options.ecdheFirst)
		lines.push("# ECDHE first: forward secrecy, and far cheaper than DHE on an ESP32.", `ciphers ${ECDHE_FIRST}`);
	if (options.mode === "mtls")
		lines.push(
			"# Mutual TLS: no client certificate from cafile's CA, no connection. The CN of the",
			"# certificate (the device id, `npm run pki -- device <id>`) becomes the username.",
			"require_certificate true",
			"use_identity_as_username true",
			"# Revoke a lost device's certificate: crlfile /path/to/crl.pem",
		);
	else
		lines.push(
			"# Username and password: each device's MQTT user name is its device id.",
			"# Add one with: mosquitto_passwd " + (files.passwordFile ?? "passwd") + " <device-id>",
			"require_certificate false",
			`password_file ${files.passwordFile ?? "passwd"}`,
		);
	lines.push("allow_anonymous false", `acl_file ${files.aclFile}`);
	return lines.join("\n") + "\n";
}

/**
 * The ACL file: devices confined to `<prefix>/<username>/#`, their own Home Assistant
 * discovery and reading releases; the operator to `<prefix>/#`, `<haPrefix>/#` and
 * `<fleetPrefix>/#`.
 */
export function aclText(prefix: string, haPrefix = HA_PREFIX, operator = OPERATOR, fleetPrefix = "fleet"): string {
	return [
		"# Devices: each reaches only its own topics. %u is the username: the certificate's CN in",
		"# mTLS mode, the MQTT user name in password mode; either way it must be the device id.",
		`pattern readwrite ${prefix}/%u/#`,
		"# Home Assistant discovery (devices built with haDiscovery=true): a device publishes one",
		"# message per entity (<component>/<id>/<key>), reads and clears the one device-based",
		"# message earlier firmware published, and reads Home Assistant's online/offline. Without",
		"# these lines the broker drops them without telling the device. (Mosquitto warns at start",
		`# that the pattern ${haPrefix}/status has no %c or %u: it is meant for every device.)`,
		`pattern write ${haPrefix}/+/%u/+/config`,
		`pattern readwrite ${haPrefix}/device/%u/config`,
		`pattern read ${haPrefix}/status`,
		"# Fleet releases (npm run release): every device reads them, none writes.",
		`pattern read ${fleetPrefix}/+/release`,
		"",
		"# The operator (backends, dashboards, npm run ota; Home Assistant, which also publishes",
		`# ${haPrefix}/status and reads the discovery messages): every device's topics.`,
		`user ${operator}`,
		`topic readwrite ${prefix}/#`,
		`topic readwrite ${fleetPrefix}/#`,
		`topic readwrite ${haPrefix}/#`,
		"",
	].join("\n");
}

/** Bytes of payload the kit's broker accepts in one message: above MAX_MESSAGE (7,168), far below a board's heap. */
export const MESSAGE_SIZE_LIMIT = 8_192;

/** A complete mosquitto.conf for a production-like broker on `port`. */
export function kitConfig(options: KitOptions, place: KitPlace, port = 8883): string {
	return [
		`# Mosquitto 2 broker for secure-mqtt-node devices, ${options.mode === "mtls" ? "mutual TLS" : "username/password"} mode.`,
		"# Generated by `npm run pki -- broker-kit`; see the README's \"TLS and certificates\" section.",
		"# Run: mosquitto -c <this file>. The paths below are where the kit was written.",
		"",
		"per_listener_settings false",
		`# Started as root, mosquitto switches to this account: it owns the files below. Started`,
		"# as any other user, it runs as that user (who must be able to read them).",
		`user ${place.runAs}`,
		"# Retained messages (births, discovery) survive a restart, kept in the kit's own folder.",
		"persistence true",
		`persistence_location ${place.dataDir}/`,
		"# The largest payload anyone may publish (bytes): a device takes commands of at most 1 KB and",
		"# sends at most 7 KB in one message; the SDK's MQTT client allocates what a message declares",
		"# before the firmware can refuse it. The firmware skips anything over 2 KB unread; this",
		"# is the second line, so a huge publish never even reaches a board.",
		`message_size_limit ${MESSAGE_SIZE_LIMIT}`,
		"# No plain-text listener: TLS only.",
		`listener ${port}`,
		securitySettings(options),
	].join("\n");
}
