/*
 * The Node emulator `npm start` runs without MODDABLE: device "dev-node", the core on
 * Node with outputs led (GPIO 2) and relay (GPIO 4) and input button (GPIO 5) in an
 * in-memory pin bank, a reading every 2 s unless a telemetry.interval said otherwise.
 *
 * - startEmulator() boots it and boots it again on every restart it asks for (the
 *   restart command, a completed update, a rollback), 200 ms after it stopped, with
 *   the same storage (boot counter, interval, trial state) and update target (the boot
 *   slots), as a board keeps its flash across a reboot.
 * - A boot whose config is refused (createNodeDevice's ConfigRefused) while the update
 *   target's image is on trial rolls back by itself (app/updates/trial.ts
 *   refusedOnTrial, as main.ts does on XS): the trace says so, the previous image boots
 *   REBOOT_PAUSE later with reason "rollback". Not on trial, the refusal is thrown as
 *   before.
 * - Every boot runs what the update target boots (pending, else installed), else the
 *   built-in version (FIRMWARE_VERSION, or `firmwareVersion` in tests). The version the
 *   restart callback names is never passed on as the built-in one: after a rollback
 *   that would be the failed image's version (issue 18, defect 4).
 * - emulatorSummary(): the start-up line, with the interval the device will use (the
 *   stored telemetry.interval, else the configured one).
 * - emulatorFiles()/resetEmulator(): its state files (storage, boot slots); deleting
 *   them makes it a new device (`npm start -- --reset`).
 */

import { existsSync, rmSync } from "node:fs";
import { relative } from "node:path";
import { ConfigRefused, createNodeDevice, type NodeDevice, type NodeDeviceOptions } from "../node/device";
import { NodeUpdateTarget } from "../node/update-target";
import type { RawConfig } from "../modules/app/config/config";
import type { Storage } from "../modules/app/ports";
import { storedInterval } from "../modules/app/config/settings";
import { refusedOnTrial } from "../modules/app/updates/trial";
import { FIRMWARE_VERSION } from "../modules/app/version";
import type { StoredSettings } from "../modules/app/setup/settings-store";

/** The emulator's config (the README's "The emulator" describes it). */
export const EMULATOR = Object.freeze({ deviceId: "dev-node", interval: 2_000, backoffMin: 500, backoffMax: 10_000, outputs: "led:2,relay:4", inputs: "button:5" });
/** The emulator's image as a fleet image: no id of its own (setup mode gives it). */
export const EMULATOR_IMAGE: RawConfig = Object.freeze((({ deviceId: _setUp, ...image }) => image)(EMULATOR));

/** What boots after a restart waits this long, as a board's reboot does (ms). */
const REBOOT_PAUSE = 200;

export interface EmulatorOptions {
	/** Broker connection and identity (mqttHost, mqttPort, clientCert...), laid over EMULATOR. */
	config: RawConfig;
	/** Settings stored by setup mode, read again at every boot (as a board reads its flash). */
	stored?: () => StoredSettings;
	/** Why the first boot happened (e.g. "setup"); later boots say why they restarted. */
	bootReason?: string;
	certsDir: string;
	storage: Storage;
	updateTarget: NodeUpdateTarget;
	print: (line: string) => void;
	/** The built-in image's version (default FIRMWARE_VERSION). */
	firmwareVersion?: string;
	/** Called with each device it boots (tests). */
	onBoot?: (node: NodeDevice) => void;
	/** Defaults to createNodeDevice (tests wrap it). */
	create?: (options: NodeDeviceOptions) => NodeDevice;
}

export interface Emulator {
	/** Stops the running device cleanly (retained offline status) and boots no other. */
	stop(): Promise<void>;
}

export function startEmulator(options: EmulatorOptions): Emulator {
	const create = options.create ?? createNodeDevice;
	let current: NodeDevice | undefined;
	let stopped = false;
	let pending: NodeJS.Timeout | undefined;
	const boot = (bootReason?: string) => {
		if (stopped)
			return;
		try {
			current = createBoot(bootReason);
		}
		catch (error) {
			const { updateTarget, storage, print, firmwareVersion } = options;
			if (!(error instanceof ConfigRefused) || !refusedOnTrial({
				slots: updateTarget, storage, log: print, problems: error.problems,
				runningVersion: updateTarget.version() ?? firmwareVersion ?? FIRMWARE_VERSION,
			}))
				throw error;
			pending = setTimeout(() => boot("rollback"), REBOOT_PAUSE);	// as a board reboots into the previous image
			return;
		}
		options.onBoot?.(current);
		current.device.start();
	};
	const createBoot = (bootReason?: string) => create({
		config: { ...EMULATOR, ...options.config },
		stored: options.stored?.(),
		certsDir: options.certsDir,
		storage: options.storage,
		log: { print: options.print },
		bootReason,
		firmwareVersion: options.firmwareVersion,
		updateTarget: options.updateTarget,
		// The device has already stopped cleanly: come back as a new boot, as a board would.
		onRestart: reason => { pending = setTimeout(() => boot(reason), REBOOT_PAUSE); },
	});
	boot(options.bootReason);
	return {
		async stop() {
			stopped = true;
			clearTimeout(pending);
			await current?.device.stop();
		},
	};
}

/** The start-up line describing the emulator, with the interval it will really use. */
export function emulatorSummary(storage: Storage, stateFile: string, root: string): string {
	const interval = storedInterval(storage) ?? EMULATOR.interval;
	const given = interval === EMULATOR.interval ? "" : ` (set by telemetry.interval; ${EMULATOR.interval / 1000} s when new)`;
	return `device: ${EMULATOR.deviceId} on Node, outputs ${EMULATOR.outputs}, inputs ${EMULATOR.inputs} (name:GPIO, in memory), a reading every ${interval / 1000} s${given}; `
		+ `boot counter and interval kept in ${relative(root, stateFile)} (npm start -- --reset starts it as new)`;
}

/** Every file the emulator keeps its state in: storage, then the boot slots. */
export function emulatorFiles(stateFile: string, otaImage: string): string[] {
	return [stateFile, ...NodeUpdateTarget.files(otaImage)];
}

/** Deletes the emulator's state; returns the files that were there. */
export function resetEmulator(files: string[]): string[] {
	const removed = files.filter(file => existsSync(file));
	for (const file of removed)
		rmSync(file, { force: true });
	return removed;
}
