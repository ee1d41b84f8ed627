/*
 * createNodeDevice: the core's Device composed with the Node adapters, the host
 * counterpart of main.ts.
 *
 * - The raw config goes through the core's loadConfig (WiFi not required, default id
 *   "node-" + a hash of the host name, default model NODE_MODEL); any problem, including a certificate file
 *   that is missing, or a client certificate and key that do not belong together,
 *   throws one ConfigRefused listing them all. Nothing is started.
 * - caCert (one or more roots)/clientCert/clientKey are file names resolved in
 *   `certsDir` (default the repository's certs/, where the firmware's bundled CA lives)
 *   and checked as the firmware checks them (node/credentials.ts).
 * - `stored`: settings stored by setup mode (app/setup), laid over `config` as main.ts
 *   lays them over the image's; a stored client certificate and key replace the files.
 * - Returns the Device (not started) and the handles tests drive: the network switch,
 *   the storage, the in-memory pin bank, the collected log lines, and cut() to kill the
 *   socket abruptly.
 * - The restart command and a completed update call `onRestart` (after the device
 *   stopped cleanly) with what boots next: the version an update installed, else the
 *   running one. The caller re-creates the device with it, as a board would boot the
 *   new image. Without onRestart a restart is only logged.
 * - OTA: a NodeFetcher trusting the same CA file as the broker connection, NodeHash,
 *   and `updateTarget` (default a memory NodeUpdateTarget of `otaCapacity` bytes; pass
 *   the previous device's target to keep "flash" across a restart; null: no OTA),
 *   which is also the boot slots. The update-signing key is the file named by config
 *   `otaKey` in `certsDir` (absent: ota.start is E_UNAVAILABLE, as a firmware built
 *   without it), checked with node:crypto. The device runs the version of the image
 *   in the target's boot slot, else `firmwareVersion`.
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, type Config, type RawConfig } from "../modules/app/config/config";
import { Device } from "../modules/app/device";
import type { OtaLimits } from "../modules/app/updates/ota";
import { FIRMWARE_VERSION } from "../modules/app/version";
import type { Storage } from "../modules/app/ports";
import { SimulatedSensor } from "../modules/app/simulated-sensor";
import { NodePins, NodeSystem } from "./pins";

/** The board model of the Node emulator: what its updates and releases must name. */
export const NODE_MODEL = "node";
import { LineLog, MemoryStorage, SwitchableNetwork, nodeClock, nodeTimers, type LineLogOptions } from "./ports";
import { checkIdentityDer, findCredentials } from "./credentials";
import { overlay } from "../modules/app/setup/overlay";
import type { StoredSettings } from "../modules/app/setup/settings-store";
import { ClientIdentityError, NodeTransport } from "./transport";
import { NodeFetcher, createNodeHash } from "./fetcher";
import { NodeUpdateTarget } from "./update-target";
import { nodeEcdsa } from "./ecdsa";

export const DEFAULT_CERTS_DIR = fileURLToPath(new URL("../certs/", import.meta.url));

export interface NodeDeviceOptions {
	config: RawConfig;
	/** Settings stored by setup mode, over `config`. */
	stored?: StoredSettings;
	/** Directory holding the files named by caCert, clientCert, clientKey. */
	certsDir?: string;
	/** Defaults to a fresh MemoryStorage (boot counter starts at 1). */
	storage?: Storage;
	/** Defaults to a network that is up. */
	network?: SwitchableNetwork;
	/** Log options (print defaults to true) or an existing LineLog. */
	log?: LineLog | LineLogOptions;
	bootReason?: string;
	random?: () => number;
	/** False turns the reconnect backoff's jitter off (the fleet benchmark's comparison). */
	jitter?: boolean;
	/** Defaults to a fresh NodePins (every level 0). */
	pins?: NodePins;
	/** False hides the RETAIN flag from the core, as on XS (tests of the settle marker). */
	reportRetain?: boolean;
	/** Called by the restart command and after a completed update, once the device stopped. */
	onRestart?: (reason: string, next: NextBoot) => void;
	/** The running firmware's version (default FIRMWARE_VERSION). */
	firmwareVersion?: string;
	/** Where updates go (kept across restarts by passing it again); null: OTA unavailable. */
	updateTarget?: NodeUpdateTarget | null;
	/** Capacity of the default update target, in bytes. */
	otaCapacity?: number;
	/** Shorter update limits (stall timeout, deadline) for tests. */
	otaLimits?: Partial<OtaLimits>;
}

/** What boots after a restart. */
export interface NextBoot {
	firmwareVersion: string;
}

export interface NodeDevice {
	device: Device;
	config: Config;
	network: SwitchableNetwork;
	storage: Storage;
	log: LineLog;
	transport: NodeTransport;
	pins: NodePins;
	/** Undefined when OTA was turned off (updateTarget: null). */
	updateTarget: NodeUpdateTarget | undefined;
	/** Destroys the current broker socket without DISCONNECT (the broker then sends the will). */
	cut(): boolean;
}

/** The config or credentials cannot start a device: every problem, as main.ts traces them. */
export class ConfigRefused extends Error {
	constructor(readonly problems: string[]) {
		super(`invalid config (${problems.length} problem${problems.length > 1 ? "s" : ""}):\n- ${problems.join("\n- ")}`);
	}
}

export function defaultNodeDeviceId(): string {
	return "node-" + createHash("sha256").update(hostname()).digest("hex").slice(0, 8);
}

export function createNodeDevice(options: NodeDeviceOptions): NodeDevice {
	const { raw, identity } = overlay(options.config, options.stored ?? {});
	const { config, errors } = loadConfig(raw, { defaultDeviceId: defaultNodeDeviceId(), wifiRequired: false, defaultModel: NODE_MODEL });
	const certsDir = options.certsDir ?? DEFAULT_CERTS_DIR;
	// Files are looked at only when their names are valid.
	const named = !errors.some(error => /^(caCert|clientCert|clientKey)/.test(error));
	const { files, problems } = named ? findCredentials(config, certsDir) : { files: { caFiles: [] }, problems: [] };
	errors.push(...problems);
	if (identity)
		errors.push(...checkIdentityDer(identity.certificate, identity.key));
	let transport: NodeTransport | undefined;
	if (!errors.length)
		try {
			transport = new NodeTransport({ host: config.mqttHost, port: config.mqttPort, ...files, clientIdentity: identity, reportRetain: options.reportRetain });
		}
		catch (error) {
			if (!(error instanceof ClientIdentityError))
				throw error;
			errors.push(`clientKey: ${JSON.stringify(config.clientKey)} with clientCert ${JSON.stringify(config.clientCert)}: ${error.message}`);
		}
	if (errors.length || !transport)
		throw new ConfigRefused(errors);

	const log = options.log instanceof LineLog ? options.log : new LineLog(options.log);
	const network = options.network ?? new SwitchableNetwork(true);
	const storage = options.storage ?? new MemoryStorage();
	const pins = options.pins ?? new NodePins();
	const onRestart = options.onRestart;
	const builtIn = options.firmwareVersion ?? FIRMWARE_VERSION;
	const system = new NodeSystem(onRestart
		? reason => onRestart(reason, { firmwareVersion: updateTarget?.version() ?? builtIn })
		: reason => log.log(`system: restart (${reason}) requested; this host has no restart handler`));
	const updateTarget = options.updateTarget === null ? undefined : options.updateTarget ?? new NodeUpdateTarget({ capacity: options.otaCapacity });
	const otaKeyFile = join(certsDir, config.otaKey);
	const ota = updateTarget ? {
		fetcher: new NodeFetcher({ caFiles: files.caFiles }), createHash: createNodeHash, updateTarget, bootSlots: updateTarget,
		ecdsa: nodeEcdsa, otaKey: existsSync(otaKeyFile) ? new Uint8Array(readFileSync(otaKeyFile)) : undefined,
	} : {};
	const device: Device = new Device({
		config,
		transport,
		network,
		clock: nodeClock,
		timers: nodeTimers,
		log: log.log,
		storage,
		sensor: new SimulatedSensor(),
		random: options.random ?? Math.random,
		jitter: options.jitter,
		bootReason: options.bootReason,
		pins,
		system,
		firmwareVersion: updateTarget?.version() ?? builtIn,
		otaLimits: options.otaLimits,
		...ota,
	});
	return { device, config, network, storage, log, transport, pins, updateTarget, cut: () => transport.cut() };
}
