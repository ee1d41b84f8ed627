/*
 * Config: turns the flat build-time config (manifest `config`, mcconfig `key="value"`)
 * into one typed, validated object.
 *
 * - Every problem is collected and returned together, each naming the key and the
 *   offending value; a caller with any problem must not start the device.
 * - Values may arrive as strings (the mcconfig command line makes every value a
 *   string): numbers are parsed, `outputs`/`inputs` accept "led:2,relay:4" or an object.
 * - Secrets (password, mqttPassword) are never echoed in messages.
 * - topicPrefix and deviceId: nothing a broker will not serve (connection/topics.ts levelProblem:
 *   control characters, wildcards, a leading $), and together short enough that the
 *   longest topic plus the largest payload fit one TLS write (limits.ts MAX_TOPIC).
 * - At most MAX_PINS outputs and inputs together: the retained state and the gpio.get
 *   answer list them all and must fit one TLS record on the device.
 * - `haDiscovery` is a boolean (true/false, or "true"/"false"/"1"/"0" from mcconfig);
 *   `haPrefix` is a topic prefix: 1..HA_PREFIX_MAX characters, no + or #, no leading $
 *   (broker-internal topics), no control characters, no leading, trailing or double /;
 *   `fleetPrefix` likewise. `model` (empty: updates refused) is a platform name as
 *   mcconfig -p spells it (MODEL): levels of A-Z a-z 0-9 _ . - separated by /.
 * - `caCert` is a comma-separated list of bundled roots (CA rotation: a fleet trusts the
 *   old and the new CA until every broker moved); certificate and key names are
 *   resource names (`*.der`), checked for existence and content by each runtime.
 */

import { FieldReader, boolean, describe, integer, pins, text, type Field, type RawConfig } from "./fields";
import { MAX_TOPIC } from "../limits";
import { levelProblem, longestTopic } from "../connection/topics";
import { INTERVAL_MAX, INTERVAL_MIN } from "./settings";

export type SensorKind = "simulated" | "adc";

export interface Config {
	ssid: string;
	password: string;
	mqttHost: string;
	mqttPort: number;
	mqttUser: string;
	mqttPassword: string;
	deviceId: string;
	topicPrefix: string;
	caCert: string;		// resource names of the trusted roots, comma-separated: see rootNames()
	clientCert: string;
	clientKey: string;
	interval: number;		// ms between readings
	keepalive: number;		// s
	connectTimeout: number;	// ms from socket open to CONNACK
	outputs: Record<string, number>;	// output name -> pin
	inputs: Record<string, number>;		// input name -> pin
	sensor: SensorKind;
	adcPin: number;		// GPIO read by the "adc" sensor
	sntp: string;
	backoffMin: number;		// ms
	backoffMax: number;		// ms
	queueSize: number;		// readings kept while offline
	haDiscovery: boolean;	// publish Home Assistant device discovery
	haPrefix: string;		// Home Assistant's discovery prefix
	otaKey: string;			// bundled update-signing public key (SubjectPublicKeyInfo DER)
	otaConfirmTimeout: number;	// ms an updated image has to confirm itself
	otaConfirmAfter: number;	// ms an updated image must stay online (healthy) before it confirms
	setupPort: number;		// TCP port of the setup server (setup/)
	setupTimeout: number;	// ms of setup mode without a request before it closes
	setupButton: string;	// the input held at boot to open setup mode ("" none)
	model: string;			// the board model updates must name ("" where the build names none)
	fleetPrefix: string;	// releases: <fleetPrefix>/<model>/release
	releaseWindow: number;	// ms: a release is installed after a random delay below this
}

export type { RawConfig } from "./fields";

export interface ConfigResult {
	config: Config;
	errors: string[];	// empty when the config is usable
}

export interface ConfigContext {
	/** Used when `deviceId` is empty: an id derived from the MAC on a board. */
	defaultDeviceId: string;
	/** True where the link needs WiFi credentials (a board), false in simulators. */
	wifiRequired: boolean;
	/** Used when `model` is empty (the Node emulator's "node"); on XS the manifest sets it. */
	defaultModel?: string;
}

// The patterns are made on each use: a preloaded RegExp crashes XS (README, notes on changing the firmware).
const DER_NAME_PATTERN = () => /^[A-Za-z0-9_.-]+\.der$/;
const ID_PATTERN = () => /^[A-Za-z0-9_-]{1,64}$/;
const SENSORS: readonly SensorKind[] = Object.freeze(["simulated", "adc"]);
export const MAX_PINS = 16;
// An offline queue may take at most QUEUE_BUDGET bytes of a board's heap, no more than
// an update takes (updates/ota.ts UPDATE_HEADROOM; test/unit/config.test.ts holds the
// two apart), so the device fits one envelope either way. A queued reading costs 136 B
// of chunks and 3 slots of 16 B on ESP32 (bench/README.md).
export const QUEUE_BUDGET = 27_648;	// bytes
export const QUEUE_ENTRY_BYTES = 136 + 3 * 16;
export const QUEUE_MAX = Math.floor(QUEUE_BUDGET / QUEUE_ENTRY_BYTES);	// 150 readings
export const HA_PREFIX_MAX = 64;	// characters
/** A board model as mcconfig -p names a platform (lin, sim/moddable_two, esp32/esp32_thing). */
export const MODEL = (): RegExp => /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
export const MODEL_MAX = 64;	// characters


/**
 * Every config key with its default and range: the one place they are written.
 * manifest.json's `config` and the README's table are checked against it
 * (test/unit/config-defaults.test.ts). An empty deviceId means the link's default id.
 */
export const CONFIG_FIELDS = Object.freeze({
	ssid: text(""),
	password: text(""),
	mqttHost: text(""),
	mqttPort: integer(8883, 1, 65535, "port"),
	mqttUser: text(""),
	mqttPassword: text(""),
	deviceId: text(""),
	topicPrefix: text("devices"),
	caCert: text("ca.der"),
	clientCert: text(""),
	clientKey: text(""),
	interval: integer(10_000, INTERVAL_MIN, INTERVAL_MAX, "ms"),
	keepalive: integer(60, 5, 3_600, "s"),
	connectTimeout: integer(30_000, 1_000, 120_000, "ms"),
	outputs: pins(),
	inputs: pins(),
	sensor: text("simulated"),
	adcPin: integer(34, 0, 48, "pin"),
	sntp: text("pool.ntp.org"),
	backoffMin: integer(1_000, 100, 3_600_000, "ms"),
	backoffMax: integer(60_000, 100, 3_600_000, "ms"),
	queueSize: integer(100, 1, QUEUE_MAX, "readings"),
	haDiscovery: boolean(false),
	haPrefix: text("homeassistant"),
	otaKey: text("ota-key.der"),
	otaConfirmTimeout: integer(300_000, 1_000, 86_400_000, "ms"),
	otaConfirmAfter: integer(60_000, 1_000, 3_600_000, "ms"),
	setupPort: integer(80, 1, 65535, "port"),
	setupTimeout: integer(600_000, 10_000, 86_400_000, "ms"),
	setupButton: text(""),
	model: text(""),	// each platform's default comes from modules/board/model/manifest.json
	fleetPrefix: text("fleet"),
	releaseWindow: integer(600_000, 0, 86_400_000, "ms"),
} satisfies Record<keyof Config, Field>);

/** The trusted roots' resource names in `caCert` ("ca.der, ca-next.der"): several during a CA rotation. */
export function rootNames(caCert: string): string[] {
	return caCert.split(",").map(name => name.trim());
}

export function loadConfig(raw: RawConfig, context: ConfigContext): ConfigResult {
	const read = new FieldReader(raw, CONFIG_FIELDS);
	const errors = read.errors;
	const config: Config = {
		ssid: read.string("ssid"),
		password: read.string("password"),
		mqttHost: read.string("mqttHost"),
		mqttPort: read.integer("mqttPort"),
		mqttUser: read.string("mqttUser"),
		mqttPassword: read.string("mqttPassword"),
		deviceId: read.string("deviceId") || context.defaultDeviceId,
		topicPrefix: read.string("topicPrefix"),
		caCert: read.string("caCert"),
		clientCert: read.string("clientCert"),
		clientKey: read.string("clientKey"),
		interval: read.integer("interval"),
		keepalive: read.integer("keepalive"),
		connectTimeout: read.integer("connectTimeout"),
		outputs: read.pinMap("outputs"),
		inputs: read.pinMap("inputs"),
		sensor: read.string("sensor") as SensorKind,
		adcPin: read.integer("adcPin"),
		sntp: read.string("sntp"),
		backoffMin: read.integer("backoffMin"),
		backoffMax: read.integer("backoffMax"),
		queueSize: read.integer("queueSize"),
		haDiscovery: read.boolean("haDiscovery"),
		haPrefix: read.string("haPrefix"),
		otaKey: read.string("otaKey"),
		otaConfirmTimeout: read.integer("otaConfirmTimeout"),
		otaConfirmAfter: read.integer("otaConfirmAfter"),
		setupPort: read.integer("setupPort"),
		setupTimeout: read.integer("setupTimeout"),
		setupButton: read.string("setupButton"),
		model: read.string("model") || (context.defaultModel ?? ""),
		fleetPrefix: read.string("fleetPrefix"),
		releaseWindow: read.integer("releaseWindow"),
	};

	if (config.ssid.length > 32)
		errors.push(`ssid: ${describe(config.ssid)} is longer than WiFi's 32`);
	if (config.password && (config.password.length < 8 || config.password.length > 63))
		errors.push("password: a WPA2 passphrase is 8..63 characters (or empty for an open network)");
	if (config.setupButton && !Object.hasOwn(config.inputs, config.setupButton))
		errors.push(`setupButton: ${describe(config.setupButton)} is not one of the configured inputs`);
	if (context.wifiRequired && !config.ssid)
		errors.push("ssid: required on this platform (pass ssid=\"...\" to mcconfig)");
	if (!config.mqttHost)
		errors.push("mqttHost: required (the broker's name as its certificate's SAN states it)");
	else if (!/^[A-Za-z0-9.-]+$/.test(config.mqttHost))
		errors.push(`mqttHost: ${describe(config.mqttHost)} is not a host name or IPv4 address`);
	const idProblem = levelProblem(config.deviceId);
	if (idProblem)
		errors.push(`deviceId: ${describe(config.deviceId)} ${idProblem}`);
	else if (!ID_PATTERN().test(config.deviceId))
		errors.push(`deviceId: ${describe(config.deviceId)} must be 1..64 of A-Z a-z 0-9 _ -`);
	const prefixProblem = levelProblem(config.topicPrefix) ??
		(config.topicPrefix.startsWith("/") || config.topicPrefix.endsWith("/") ? "starts or ends with /" : undefined);
	if (prefixProblem)
		errors.push(`topicPrefix: ${describe(config.topicPrefix)} ${prefixProblem}`);
	else if (!idProblem && longestTopic(config.topicPrefix, config.deviceId) > MAX_TOPIC)
		errors.push(`topicPrefix: ${describe(config.topicPrefix)} with deviceId ${describe(config.deviceId)} makes topics of ${longestTopic(config.topicPrefix, config.deviceId)} bytes; one TLS write leaves room for ${MAX_TOPIC}`);
	const haPrefixProblem = topicPrefixProblem(config.haPrefix, HA_PREFIX_MAX);
	if (haPrefixProblem)
		errors.push(`haPrefix: ${describe(config.haPrefix)} ${haPrefixProblem}`);
	const fleetPrefixProblem = topicPrefixProblem(config.fleetPrefix, HA_PREFIX_MAX);
	if (fleetPrefixProblem)
		errors.push(`fleetPrefix: ${describe(config.fleetPrefix)} ${fleetPrefixProblem}`);
	if (config.model && (config.model.length > MODEL_MAX || !MODEL().test(config.model)))
		errors.push(`model: ${describe(config.model)} must be levels of A-Z a-z 0-9 _ . - separated by / (at most ${MODEL_MAX} characters), as mcconfig -p names a platform`);
	const roots = rootNames(config.caCert);
	for (const name of roots)
		if (!DER_NAME_PATTERN().test(name))
			errors.push(`caCert: ${describe(name)} must name a bundled DER certificate (*.der; several separated by commas)`);
	if (new Set(roots).size < roots.length)
		errors.push(`caCert: ${describe(roots.join(","))} names a certificate twice`);
	for (const key of ["clientCert", "clientKey"] as const)
		if (config[key] && !DER_NAME_PATTERN().test(config[key]))
			errors.push(`${key}: ${describe(config[key])} must name a bundled DER file (*.der)`);
	if (!config.otaKey.endsWith(".der"))
		errors.push(`otaKey: ${describe(config.otaKey)} must name a bundled DER public key (*.der)`);
	if (!config.clientCert !== !config.clientKey)
		errors.push(`clientCert/clientKey: give both or neither (got ${describe(config.clientCert)} and ${describe(config.clientKey)})`);
	if (config.backoffMax < config.backoffMin && !errors.some(error => error.startsWith("backoffM")))
		errors.push(`backoffMax: ${config.backoffMax} ms is below backoffMin ${config.backoffMin} ms`);
	if (config.otaConfirmAfter >= config.otaConfirmTimeout && !errors.some(error => error.startsWith("otaConfirm")))
		errors.push(`otaConfirmAfter: ${config.otaConfirmAfter} ms is not below otaConfirmTimeout ${config.otaConfirmTimeout} ms (an update could never confirm)`);
	if (!SENSORS.includes(config.sensor))
		errors.push(`sensor: ${describe(config.sensor)} is not one of ${SENSORS.join(", ")}`);
	if (config.mqttPassword && !config.mqttUser)
		errors.push("mqttPassword: given without mqttUser");
	for (const name in config.inputs)
		if (Object.hasOwn(config.outputs, name))
			errors.push(`inputs: "${name}" is also an output`);
	const pins = Object.keys(config.outputs).length + Object.keys(config.inputs).length;
	if (pins > MAX_PINS)
		errors.push(`outputs: ${pins} outputs and inputs together, at most ${MAX_PINS}`);
	return { config, errors };
}

/** Why `prefix` cannot start topics the device publishes or subscribes to, or undefined. */
function topicPrefixProblem(prefix: string, max: number): string | undefined {
	if (prefix.length > max)
		return `must be 1..${max} characters`;
	const problem = levelProblem(prefix);
	if (problem)
		return problem;
	if (prefix.startsWith("/") || prefix.endsWith("/") || prefix.includes("//"))
		return "must not have a leading, trailing or doubled /";
	return undefined;
}
