/*
 * createNodeDevice: the core's Device composed with the Node adapters, the host
 * counterpart of main.ts.
 *
 * - The raw config goes through the core's loadConfig (WiFi not required, default id
 *   "node-" + a hash of the host name); any problem, including a certificate file
 *   that is missing, throws one Error listing them all. Nothing is started.
 * - caCert/clientCert/clientKey are file names resolved in `certsDir` (default the
 *   repository's certs/, where the firmware's bundled CA lives).
 * - Returns the Device (not started) and the handles tests drive: the network switch,
 *   the storage, the in-memory pin bank, the collected log lines, and cut() to kill the
 *   socket abruptly.
 * - The restart command and a completed update call `onRestart` (after the device
 *   stopped cleanly) with what boots next: the version an update installed, else the
 *   running one. The caller re-creates the device with it, as a board would boot the
 *   new image. Without onRestart a restart is only logged.
 * - OTA: a NodeFetcher trusting the same CA file as the broker connection, NodeHash,
 *   and `updateTarget` (default a memory NodeUpdateTarget of `otaCapacity` bytes; pass
 *   the previous device's target to keep "flash" across a restart; null: no OTA).
 */

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, type Config, type RawConfig } from "../modules/app/config";
import { Device } from "../modules/app/device";
import type { Storage } from "../modules/app/ports";
import { SimulatedSensor } from "../modules/app/simulated-sensor";
import { NodePins, NodeSystem } from "./pins";
import { LineLog, MemoryStorage, SwitchableNetwork, nodeClock, nodeTimers, type LineLogOptions } from "./ports";
import { NodeTransport } from "./transport";
import { NodeFetcher, createNodeHash } from "./fetcher";
import { NodeUpdateTarget } from "./update-target";

export const DEFAULT_CERTS_DIR = fileURLToPath(new URL("../certs/", import.meta.url));

export interface NodeDeviceOptions {
	config: RawConfig;
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

export function defaultNodeDeviceId(): string {
	return "node-" + createHash("sha256").update(hostname()).digest("hex").slice(0, 8);
}

export function createNodeDevice(options: NodeDeviceOptions): NodeDevice {
	const { config, errors } = loadConfig(options.config, { defaultDeviceId: defaultNodeDeviceId(), wifiRequired: false });
	const certsDir = options.certsDir ?? DEFAULT_CERTS_DIR;
	const file = (key: "caCert" | "clientCert" | "clientKey") => {
		const name = config[key];
		const path = join(certsDir, name);
		if (name && !errors.some(error => error.startsWith(key)) && !existsSync(path))
			errors.push(`${key}: ${JSON.stringify(name)} not found in ${certsDir}`);
		return name ? path : undefined;
	};
	const caFile = file("caCert");
	const clientCertFile = file("clientCert");
	const clientKeyFile = file("clientKey");
	if (errors.length)
		throw new Error(`invalid config (${errors.length} problem${errors.length > 1 ? "s" : ""}):\n- ${errors.join("\n- ")}`);

	const log = options.log instanceof LineLog ? options.log : new LineLog(options.log);
	const network = options.network ?? new SwitchableNetwork(true);
	const storage = options.storage ?? new MemoryStorage();
	const transport = new NodeTransport({ host: config.mqttHost, port: config.mqttPort, caFile: caFile!, clientCertFile, clientKeyFile, reportRetain: options.reportRetain });
	const pins = options.pins ?? new NodePins();
	const onRestart = options.onRestart;
	const system = new NodeSystem(onRestart
		? reason => onRestart(reason, { firmwareVersion: device.ota.installed ?? device.firmwareVersion })
		: reason => log.log(`system: restart (${reason}) requested; this host has no restart handler`));
	const updateTarget = options.updateTarget === null ? undefined : options.updateTarget ?? new NodeUpdateTarget({ capacity: options.otaCapacity });
	const ota = updateTarget ? { fetcher: new NodeFetcher({ caFile: caFile! }), createHash: createNodeHash, updateTarget } : {};
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
		firmwareVersion: options.firmwareVersion,
		...ota,
	});
	return { device, config, network, storage, log, transport, pins, updateTarget, cut: () => transport.cut() };
}
