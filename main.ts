/*
 * Composition root: read the build config, build the XS adapters, start the device.
 *
 * - Nothing runs unless the whole config is valid and every named certificate and key
 *   is bundled and parses (credentials); otherwise every problem is traced, and
 *   repeated every minute so a serial console opened later still sees why the device
 *   is idle. Unless this image is an update on trial (app/updates/trial.ts
 *   refusedOnTrial, the trial's own "pending"): then it rolls back by itself, traced
 *   once, and restarts into the previous image (a board reboots inside the revert; a
 *   simulator starts over in place, its slots now naming the previous version, and
 *   refuses as always, since it still runs the code it was built with).
 * - Which link, sensors, pins, update target and platform adapters exist is decided by
 *   manifest.json's `platforms` sections, not here.
 * - `restart` reboots a board; where the platform cannot reboot (the simulators) the
 *   device is stopped and built again in place, which counts as a new boot, running
 *   the version of the update target's boot slot (the simulators' file slots).
 * - The update-signing key is the resource named by `otaKey`; a build without it runs,
 *   but refuses every ota.start (E_UNAVAILABLE, and the trace says why).
 * - Settings stored by setup mode (app/setup) are laid over the image's config. When
 *   the result lacks a broker host (or on a board a WiFi network), or the owner asked
 *   on the device itself (board/setup-access: the setup button, a file in the
 *   simulator's state folder), the device opens setup mode instead: no MQTT at all.
 *   After a 200 it restarts into normal mode (a board reboots; a simulator starts over
 *   in place, reading the stored settings again).
 * - MQTT and the update fetcher share one TLS socket class (tls-socket: its roots and
 *   session cache); the fetcher and the update target are built by the ota.start that
 *   needs them (the target also once per boot, to read its boot slots).
 */

import config from "mc/config";
import Timer from "timer";
import Resource from "Resource";
import { loadConfig, rootNames, type Config, type ConfigContext, type RawConfig } from "app/config/config";
import { Device } from "app/device";
import { mixedRandom } from "app/random";
import type { Network, Sensor } from "app/ports";
import { checkIdentity, loadCredentials, type Credentials } from "credentials";
import { storeRestartReason } from "app/config/settings";
import { refusedOnTrial } from "app/updates/trial";
import { FIRMWARE_VERSION } from "app/version";
import { overlay, needsSetup, type Identity } from "app/setup/overlay";
import { SettingsStore, type BlobStorage } from "app/setup/settings-store";
import { CODE_NAME, setupCode } from "app/setup/setup-code";
import { SetupHandler } from "app/setup/setup-handler";
import { createBlobs, localRequest, openAccess, randomBytes } from "board/setup-access";
import { startSetupServer } from "setup-server";
import { createTransport } from "mqtt-tls";
import { lingeringSecureSocket } from "tls-socket";
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

function report(problems: string[]): void {
	log(`config: refusing to start, ${problems.length} problem(s):`);
	for (const problem of problems)
		log(`config:   ${problem}`);
}

/** Traces the problems; an image on trial then rolls back and restarts, any other repeats them every REPEAT_PROBLEMS ms. */
function refuse(problems: string[], deviceId: string): void {
	report(problems);
	let slots: ReturnType<typeof createUpdateTarget> | undefined;
	try {
		slots = createUpdateTarget(deviceId, log, storage);
	}
	catch (error) {
		log(`config: cannot open the boot slots: ${error}`);
	}
	if (slots && refusedOnTrial({ slots, storage, log, problems, runningVersion: slots.version() ?? FIRMWARE_VERSION })) {
		Timer.set(() => hardRestart ? hardRestart() : start(), SOFT_RESTART_DELAY);
		return;
	}
	Timer.repeat(() => report(problems), REPEAT_PROBLEMS);
}

interface Parts {
	settings: Config;
	credentials: Credentials;
	sensor: Sensor;
}

const context: ConfigContext = { defaultDeviceId: defaultDeviceId(), wifiRequired };

/** Setup mode: the setup server (and on a board its access point) until settings are stored. */
function openSetup(raw: RawConfig, store: SettingsStore, blobs: BlobStorage): void {
	const { config: settings } = loadConfig(raw, context);	// its port, timeout and id; problems are setup's to fix
	const code = setupCode(blobs, randomBytes);
	const access = openAccess({ code, deviceId: settings.deviceId, log });
	const handler = new SetupHandler({ code, store, image: config as RawConfig, context, identity: { check: checkIdentity }, clock, log });
	startSetupServer({
		port: settings.setupPort, handler, timeout: settings.setupTimeout, timers, log,
		onIdle: () => access.close(),
		onSaved: () => {
			access.close();
			storeRestartReason(storage, "setup");
			log("setup: settings stored, restarting into normal mode");
			Timer.set(() => hardRestart ? hardRestart() : start(), SOFT_RESTART_DELAY);
		},
	});
	log(`setup: open on port ${settings.setupPort}, code ${code}`);
}

/** Validates everything up front; returns the parts, or undefined after refusing. */
function prepare(raw: RawConfig, identity: Identity | undefined): Parts | undefined {
	const { config: settings, errors } = loadConfig(raw, context);
	const { credentials, problems } = loadCredentials({ ...settings, caCerts: rootNames(settings.caCert) }, identity);
	errors.push(...problems);
	let sensor: Sensor | undefined;
	try {
		sensor = createSensor(settings.sensor, settings.adcPin);
	}
	catch (error) {
		errors.push(`sensor: ${(error as Error).message}`);
	}
	if (errors.length || !sensor) {
		refuse(errors, settings.deviceId);
		return undefined;
	}
	return { settings, credentials, sensor };
}

function start(): void {
	const blobs = createBlobs(log);
	const store = new SettingsStore(blobs);
	const image = loadConfig(config, context).config;
	const asked = localRequest({ button: image.setupButton, inputs: image.inputs, log });
	if (asked === "reset") {
		store.clear();
		blobs.remove(CODE_NAME);
		log("setup: factory reset: stored settings and setup code forgotten");
	}
	const stored = store.load();
	if (store.problem)
		log(`setup: ${store.problem}`);
	const { raw, identity } = overlay(config as RawConfig, stored);
	if (asked !== "none" || needsSetup(raw, wifiRequired)) {
		openSetup(raw, store, blobs);
		return;
	}
	const parts = prepare(raw, identity);
	if (!parts)
		return;
	const { settings, credentials, sensor } = parts;
	const Socket = lingeringSecureSocket(credentials.roots);	// one TLS client class: MQTT and updates
	const transport = createTransport({ host: settings.mqttHost, port: settings.mqttPort, credentials, Socket });
	const network: Network = createLink({ ssid: settings.ssid, password: settings.password, sntp: settings.sntp, log });
	const pins = createPins(log);
	const openUpdateTarget = () => createUpdateTarget(settings.deviceId, log, storage);
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
			createFetcher: () => createFetcher(Socket), createHash, openUpdateTarget, ecdsa, otaKey,
			firmwareVersion: openUpdateTarget().version(),
			bootReason: bootReason(storage, resetReason),
		});
		next.start();
		return next;
	};
	device = boot();
}

start();
