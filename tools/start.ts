/*
 * `npm start`: a complete local setup in one command.
 *
 * - Makes the dev PKI in .dev/pki on first run (reused afterwards) and copies its CA to
 *   certs/ca.der when absent (the CA the firmware bundles; both are git-ignored).
 * - Starts a TLS broker on a free loopback port (mosquitto, else embedded aedes) and
 *   prints mosquitto_sub/mosquitto_pub command lines for it.
 * - With MODDABLE set, builds the firmware and runs it in the simulator (tools/sdk.ts);
 *   otherwise runs the core on Node as device "dev-node", every 2 s, with outputs
 *   led (GPIO 2) and relay (GPIO 4) and input button (GPIO 5) in an in-memory pin bank;
 *   the restart command re-creates it (boot counter +1, reason "restart"), and so does
 *   a completed update (reason "ota", running the version it installed; the image
 *   that would boot is kept in .dev/node-ota.bin). A new `npm start` runs
 *   FIRMWARE_VERSION again.
 * - Writes the broker's port to .dev/broker.json (removed at a clean stop), where
 *   `npm run ota` finds it.
 * - Prints what devices publish (devices/+/#) compactly, and the device's state changes.
 * - Ctrl-C / SIGTERM: stops the device cleanly (retained offline status), then the
 *   broker, and exits 0.
 */

import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { startBroker } from "./broker/broker";
import { DEV_DIR, PKI_DIR, ROOT, removeBrokerInfo, writeBrokerInfo } from "./dev-state";
import { createNodeDevice } from "../node/device";
import { MemoryStorage } from "../node/ports";
import { NodeUpdateTarget } from "../node/update-target";
import { generatePki } from "./pki";
import { runSimulator } from "./sdk";

const CERTS_DIR = join(ROOT, "certs");

const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);

function compact(topic: string, payload: string, retain: boolean): string {
	const short = payload.length > 160 ? payload.slice(0, 157) + "..." : payload;
	return `<- ${topic}${retain ? " (retained)" : ""} ${short}`;
}

async function main(): Promise<void> {
	const pki = generatePki(PKI_DIR);
	mkdirSync(CERTS_DIR, { recursive: true });
	const bundledCa = join(CERTS_DIR, "ca.der");
	if (!existsSync(bundledCa)) {
		copyFileSync(pki.caDer, bundledCa);
		say(`copied the dev CA to ${bundledCa} (the CA the firmware bundles)`);
	}
	else if (!readFileSync(bundledCa).equals(readFileSync(pki.caDer)))
		say(`warning: ${bundledCa} is not the dev CA in ${PKI_DIR}: the device will refuse this broker (delete certs/ca.der to bundle the dev CA)`);

	// SMN_BROKER=aedes forces the embedded fallback (to try it where mosquitto is installed).
	const broker = await startBroker({ pkiDir: PKI_DIR, engine: process.env.SMN_BROKER === "aedes" ? "aedes" : "auto" });
	const port = broker.port;
	say(`broker: ${broker.kind} on localhost:${port} (TLS only${broker.logFile ? `, log ${broker.logFile}` : ""})`);
	// The simulator's device is "dev-sim" (tools/sdk.ts), the Node one "dev-node".
	const id = process.env.MODDABLE ? "dev-sim" : "dev-node";
	console.log(`\n  watch:   mosquitto_sub --cafile .dev/pki/ca.pem -h localhost -p ${port} -t 'devices/#' -v`);
	console.log(`  command: mosquitto_pub --cafile .dev/pki/ca.pem -h localhost -p ${port} -t devices/${id}/cmd -m '{"id":"c-1","op":"status"}'`);
	console.log(`  gpio:    mosquitto_pub --cafile .dev/pki/ca.pem -h localhost -p ${port} -t devices/${id}/cmd -m '{"id":"c-2","op":"gpio.set","pin":"led","value":1}'`);
	console.log(`  update:  npm run ota -- <image file> --device ${id} --version 1.1.0\n`);
	writeBrokerInfo({ port, pid: process.pid, prefix: "devices", pkiDir: PKI_DIR });

	const monitor = mqtt.connect({ protocol: "mqtts", host: "localhost", port, ca: readFileSync(pki.caPem), protocolVersion: 4, reconnectPeriod: 1_000, clientId: `npm-start-monitor-${process.pid}` });
	monitor.on("error", error => say(`monitor: ${error.message}`));
	monitor.on("connect", () => monitor.subscribe("devices/+/#", { qos: 0 }));
	monitor.on("message", (topic, payload, packet) => {
		if (!topic.endsWith("/sync") && !(topic.endsWith("/cmd") && payload.length === 0))	// markers and the retained-command deletion are noise here
			say(compact(topic, payload.toString("utf8"), packet.retain));
	});

	let stopDevice: () => unknown = () => undefined;
	if (process.env.MODDABLE) {
		say(`MODDABLE is set: running the firmware in the simulator (tools/sdk.ts)`);
		const simulator = await runSimulator({ port, caDer: bundledCa, log: say });
		stopDevice = () => simulator.stop();
	}
	else {
		const storage = new MemoryStorage(join(ROOT, ".dev", "node-device.json"));
		// The "flash" survives the device's restarts, as a board's OTA partition does.
		const updateTarget = new NodeUpdateTarget({ path: join(DEV_DIR, "node-ota.bin") });
		const boot = (bootReason?: string, firmwareVersion?: string) => {
			const node = createNodeDevice({
				config: { mqttHost: "localhost", mqttPort: port, interval: 2_000, deviceId: "dev-node", backoffMin: 500, backoffMax: 10_000, outputs: "led:2,relay:4", inputs: "button:5" },
				certsDir: CERTS_DIR,
				storage,
				log: { prefix: "[dev-node]" },
				bootReason,
				firmwareVersion,
				updateTarget,
				// The device has already stopped cleanly: come back as a new boot, as a board would.
				onRestart: (reason, next) => { setTimeout(() => boot(reason, next.firmwareVersion), 200); },
			});
			node.device.start();
			stopDevice = () => node.device.stop();
		};
		boot();
	}

	let stopping = false;
	const shutdown = async (signal: string) => {
		if (stopping)
			return;
		stopping = true;
		say(`${signal}: stopping`);
		try { await stopDevice(); } catch (error) { say(`device stop failed: ${error}`); }
		await new Promise(resolve => setTimeout(resolve, 500));	// let the offline status reach the monitor
		await monitor.endAsync(true).catch(() => undefined);
		await broker.stop();
		removeBrokerInfo();
		process.exit(0);
	};
	process.on("SIGINT", () => void shutdown("SIGINT"));
	process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch(error => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
