/*
 * Composition root: read the build config, build the XS adapters, start the device.
 *
 * - Nothing runs unless the whole config is valid and every named certificate and key
 *   is bundled and parses (credentials); otherwise every problem is traced, and
 *   repeated every minute so a serial console opened later still sees why the device
 *   is idle.
 * - Which link, sensors, pins, update target and platform adapters exist is decided by
 *   manifest.json's `platforms` sections, not here.
 * - `restart` reboots a board; where the platform cannot reboot (the simulators) the
 *   device is stopped and built again in place, which counts as a new boot, running
 *   the version of the update target's boot slot (the simulators' file slots).
 * - The update-signing key is the resource named by `otaKey`; a build without it runs,
 *   but refuses every ota.start (E_UNAVAILABLE, and the trace says why).
 */

import config from "mc/config";
import Timer from "timer";
import Resource from "Resource";
import { loadConfig, rootNames, type Config } from "app/config/config";
import { Device } from "app/device";
import { mixedRandom } from "app/random";
import type { Network, Sensor } from "app/ports";
import { loadCredentials, type Credentials } from "credentials";
import { createTransport } from "mqtt-tls";
import { createLink, defaultDeviceId, rssi, wifiRequired } from "board/link";
import { createSensor } from "board/sensors";
import { createPins } from "board/pins";
import { bootReason, createSystem } from "system/port";
import { freeHeap, hardRestart, resetReason } from "board/platform";
import { createFetcher, createHash } from "ota/transfer";
import { createUpdateTarget } from "board/ota-target";
import { ecdsa } from "ota/ecdsa";
import { clock, log, storage, timers } from "runtime";

const REPEAT_PROBLEMS = 60_000;	// ms
const SOFT_RESTART_DELAY = 1_000;	// ms between stopping the old device and starting the new

function refuse(problems: string[]): void {
	const report = () => {
		log(`config: refusing to start, ${problems.length} problem(s):`);
		for (const problem of problems)
			log(`config:   ${problem}`);
	};
	report();
	Timer.repeat(report, REPEAT_PROBLEMS);
}

interface Parts {
	settings: Config;
	credentials: Credentials;
	sensor: Sensor;
}

/** Validates everything up front; returns the parts, or undefined after refusing. */
function prepare(): Parts | undefined {
	const { config: settings, errors } = loadConfig(config, { defaultDeviceId: defaultDeviceId(), wifiRequired });
	const { credentials, problems } = loadCredentials({ ...settings, caCerts: rootNames(settings.caCert) });
	errors.push(...problems);
	let sensor: Sensor | undefined;
	try {
		sensor = createSensor(settings.sensor, settings.adcPin);
	}
	catch (error) {
		errors.push(`sensor: ${(error as Error).message}`);
	}
	if (errors.length || !sensor) {
		refuse(errors);
		return undefined;
	}
	return { settings, credentials, sensor };
}

function start(): void {
	const parts = prepare();
	if (!parts)
		return;
	const { settings, credentials, sensor } = parts;
	const transport = createTransport({ host: settings.mqttHost, port: settings.mqttPort, credentials });
	const network: Network = createLink({ ssid: settings.ssid, password: settings.password, sntp: settings.sntp, log });
	const pins = createPins(log);
	const fetcher = createFetcher(credentials.roots);	// updates trust the same bundled roots
	const updateTarget = createUpdateTarget(settings.deviceId, log, storage);
	const otaKey = Resource.exists(settings.otaKey) ? new Uint8Array(new Resource(settings.otaKey).slice(0)) : undefined;
	const random = mixedRandom(settings.deviceId, Date.now() + clock.ticks());
	let device: Device;

	const softRestart = () => {
		device.stop();
		Timer.set(() => {
			device = boot();
		}, SOFT_RESTART_DELAY);
	};
	const system = createSystem({ storage, rssi, restart: hardRestart ?? softRestart, freeHeap });

	const boot = (): Device => {
		const next = new Device({
			config: settings, transport, network, clock, timers, log, storage, sensor, random, pins, system,
			fetcher, createHash, updateTarget, bootSlots: updateTarget, ecdsa, otaKey,
			firmwareVersion: updateTarget.version(),
			bootReason: bootReason(storage, resetReason),
		});
		next.start();
		return next;
	};
	device = boot();
}

start();
