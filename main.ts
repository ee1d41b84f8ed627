/*
 * Composition root: read the build config, build the XS adapters, start the device.
 *
 * - Nothing runs unless the whole config is valid and every named certificate is
 *   bundled; otherwise every problem is traced, and repeated every minute so a serial
 *   console opened later still sees why the device is idle.
 * - Which link, sensors and pins adapters exist is decided by manifest.json's
 *   `platforms` sections, not here.
 */

import config from "mc/config";
import Timer from "timer";
import { loadConfig } from "app/config";
import { Device } from "app/device";
import { mixedRandom } from "app/random";
import { createTransport, missingResources } from "mqtt-tls";
import { createLink, defaultDeviceId, wifiRequired } from "link";
import { createSensor } from "sensors";
import { clock, log, storage, timers } from "runtime";

const REPEAT_PROBLEMS = 60_000;	// ms

function refuse(problems: string[]): void {
	const report = () => {
		log(`config: refusing to start, ${problems.length} problem(s):`);
		for (const problem of problems)
			log(`config:   ${problem}`);
	};
	report();
	Timer.repeat(report, REPEAT_PROBLEMS);
}

function start(): void {
	const { config: settings, errors } = loadConfig(config, { defaultDeviceId: defaultDeviceId(), wifiRequired });
	const tls = {
		host: settings.mqttHost,
		port: settings.mqttPort,
		caCert: settings.caCert,
		clientCert: settings.clientCert || undefined,
		clientKey: settings.clientKey || undefined,
	};
	for (const name of missingResources(tls))
		errors.push(`${name === settings.caCert ? "caCert" : "clientCert/clientKey"}: "${name}" is not bundled (see certs/README.md)`);
	let sensor;
	try {
		sensor = createSensor(settings.sensor, Number(config.adcPin ?? 34));
	}
	catch (error) {
		errors.push(`sensor: ${(error as Error).message}`);
	}
	if (errors.length || !sensor)
		return refuse(errors);

	const device = new Device({
		config: settings,
		transport: createTransport(tls),
		network: createLink({ ssid: settings.ssid, password: settings.password, sntp: settings.sntp, log }),
		clock,
		timers,
		log,
		storage,
		sensor,
		random: mixedRandom(settings.deviceId, Date.now() + clock.ticks()),
	});
	device.start();
}

start();
