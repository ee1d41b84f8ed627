/*
 * `npm start`: a complete local setup in one command.
 *
 * - Makes the dev PKI in .dev/pki on first run (reused afterwards) and copies its CA to
 *   certs/ca.der and its update-signing public key to certs/ota-key.der when absent
 *   (what the firmware bundles; all git-ignored).
 * - Starts a TLS broker on a free loopback port (mosquitto, else embedded aedes) and
 *   prints mosquitto_sub/mosquitto_pub command lines for it. `-- --mtls` and
 *   `-- --password` start it as the broker kit's production broker instead (client
 *   certificates or a password file, ACL per device; tools/dev-identity.ts).
 * - With MODDABLE set, builds the firmware and runs it in the simulator (tools/sdk.ts);
 *   otherwise runs the core on Node as device "dev-node" (tools/emulator.ts): the
 *   restart command re-creates it (boot counter +1, reason "restart"), and so does a
 *   completed update (reason "ota", running the version it installed, on trial until
 *   confirmed, else rolled back to what ran before). The boot slots are kept in
 *   .dev/node-ota.bin (.pending, .previous, .slots.json): a new `npm start` boots what
 *   was installed.
 * - The device is set up through setup mode on every start (tools/start-setup.ts): it
 *   starts fresh from the fleet image's config (no broker, no id), and the same POST
 *   /settings an owner's phone sends gives it the broker, its id and identity; the
 *   live view shows the setup line, the request, the restart and the birth.
 *   `-- --setup` leaves it in setup mode for a person to try the page.
 * - `-- --reset` first deletes the emulator's state (boot counter, interval, boot
 *   slots) and the simulator build (.dev/sim), so the device starts as new.
 * - The `npm run ota` hint is printed at each birth with a new fw, with a version
 *   above the running one (tools/start-hints.ts).
 * - One per checkout: the second refuses (dev-state.ts claimCheckout), naming the first.
 *   Needs the openssl CLI (the dev PKI); without it, says so and exits 1.
 * - Writes the broker's port to .dev/broker.json (removed at a clean stop), where
 *   `npm run ota` finds it.
 * - The live view (monitor.ts): one line per event on devices/+/#, each command once
 *   with its result; the device's own trace without its command lines (they would
 *   repeat the view's).
 * - A broker that dies on its own is said once and started again on the same port
 *   (broker/supervise.ts); one that keeps dying stops everything cleanly, exit 1. The
 *   simulator likewise (sim-supervise.ts): its death is said with its last lines and it
 *   is started again from the same build; one that keeps dying stops everything, exit 1.
 * - Ctrl-C / SIGTERM: stops the device cleanly (retained offline status), then the
 *   broker, and exits 0.
 * SMN_BROKER=aedes forces the embedded broker where mosquitto is installed.
 */

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { startBroker } from "./broker/broker";
import { BrokerSupervisor } from "./broker/supervise";
import { devIdentity, operatorOptions, startMode } from "./dev-identity";
import { DEV_DIR, NODE_DEVICE_STATE, NODE_OTA_IMAGE, PKI_DIR, ROOT, claimCheckout, removeBrokerInfo, writeBrokerInfo } from "./dev-state";
import { EMULATOR_IMAGE, emulatorFiles, emulatorSummary, resetEmulator, startEmulator } from "./emulator";
import { startMonitor } from "./monitor";
import { MemoryStorage } from "../node/ports";
import { NodeUpdateTarget } from "../node/update-target";
import { generatePki } from "./pki";
import { libraryPath, prepareSimulator, simulatorStateDir } from "./sdk";
import { freePort } from "./net";
import { mtlsIdentity } from "./provision";
import { factoryReset, onSetupLine, provisionDevice, setupFlag } from "./start-setup";
import { FileBlobs, startNodeSetup, type NodeSetup } from "../node/setup-server";
import { SettingsStore } from "../modules/app/setup/settings-store";
import { SimulatorSupervisor } from "./sim-supervise";
import { commandHints, updateHint } from "./start-hints";

const CERTS_DIR = join(ROOT, "certs");
const SIM_BUILD = join(DEV_DIR, "sim");
const NODE_SETUP_DIR = join(DEV_DIR, "node-setup");
const USAGE = "usage: npm start [-- --mtls | --password] [--reset] [--setup]";

const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
// The device's trace, minus its command lines: the live view prints each command with its result.
const sayDevice = (line: string) => { if (!/^\[dev-(node|sim)\] cmd: /.test(line)) say(line); };

async function main(): Promise<void> {
	const argv = process.argv.slice(2);
	if (argv.includes("--help")) {
		console.log(`${USAGE}\n  --mtls      the device logs in with a client certificate (the broker kit's mTLS broker)\n  --password  the device logs in with a password (the broker kit's password broker)\n  --reset     start the device as new: delete its boot counter, interval, installed updates and simulator build\n  --setup     leave the device in setup mode and print its setup URL and code, for a person to try the setup page`);
		return;
	}
	const unknown = argv.filter(arg => !["--mtls", "--password", "--reset", "--setup"].includes(arg));
	if (unknown.length)
		throw new Error(`npm start: unknown argument ${unknown.map(arg => JSON.stringify(arg)).join(" ")} (e.g. npm start -- --mtls)\n${USAGE}; --help explains them`);
	if (argv.includes("--mtls") && argv.includes("--password"))
		throw new Error(`npm start: --mtls and --password are two ways for the device to log in: give one (e.g. npm start -- --mtls)\n${USAGE}`);
	const reset = argv.includes("--reset");
	const { argv: rest, leaveOpen } = setupFlag(argv.filter(arg => arg !== "--reset"));
	const mode = startMode(rest);
	const release = claimCheckout();
	process.on("exit", release);
	if (reset) {
		const removed = resetEmulator(emulatorFiles(NODE_DEVICE_STATE, NODE_OTA_IMAGE));
		if (existsSync(SIM_BUILD)) {	// a fresh build is a fresh simulated device
			rmSync(SIM_BUILD, { recursive: true, force: true });
			removed.push(SIM_BUILD);
		}
		say(`reset: ${removed.length ? `removed ${removed.map(file => relative(ROOT, file)).join(", ")}` : "nothing to remove"}; the device starts as new`);
	}
	const pki = generatePki(PKI_DIR);
	mkdirSync(CERTS_DIR, { recursive: true });
	const bundledCa = join(CERTS_DIR, "ca.der");
	if (!existsSync(bundledCa)) {
		copyFileSync(pki.caDer, bundledCa);
		say(`copied the dev CA to ${bundledCa} (the CA the firmware bundles)`);
	}
	else if (!readFileSync(bundledCa).equals(readFileSync(pki.caDer)))
		say(`warning: ${bundledCa} is not the dev CA in ${PKI_DIR}: the device will refuse this broker (delete certs/ca.der to bundle the dev CA)`);
	const bundledOtaKey = join(CERTS_DIR, "ota-key.der");
	if (!existsSync(bundledOtaKey)) {
		copyFileSync(pki.otaKeyDer, bundledOtaKey);
		say(`copied the dev update-signing public key to ${bundledOtaKey} (npm run ota signs with ${pki.otaSigningKey})`);
	}
	else if (!readFileSync(bundledOtaKey).equals(readFileSync(pki.otaKeyDer)))
		say(`warning: ${bundledOtaKey} is not the dev signing key's: the device will refuse updates from npm run ota (delete it to bundle the dev one)`);

	// SMN_BROKER=aedes forces the embedded fallback (to try it where mosquitto is installed).
	// The simulator's device is "dev-sim" (tools/sdk.ts), the Node one "dev-node".
	const id = process.env.MODDABLE ? "dev-sim" : "dev-node";
	const identity = devIdentity(mode, id, PKI_DIR);
	const supervisor = new BrokerSupervisor({ say, giveUp: reason => void shutdown(`broker: giving up (${reason})`, 1) });
	const broker = await startBroker({ pkiDir: PKI_DIR, engine: process.env.SMN_BROKER === "aedes" ? "aedes" : "auto", auth: identity.auth, ecdheFirst: mode !== "tls", onExit: supervisor.exited });
	supervisor.attach(broker);
	const port = broker.port;
	say(`broker: ${broker.kind} on localhost:${port} (TLS only${mode === "mtls" ? ", client certificates required" : mode === "password" ? ", password file" : ""}${broker.logFile ? `, log ${broker.logFile}` : ""})`);
	console.log(["", ...commandHints(port, id, identity.flags), "  update:  printed when the device is online (a version above the one it runs)", ""].join("\n"));
	writeBrokerInfo({ port, pid: process.pid, prefix: "devices", pkiDir: PKI_DIR, login: identity.auth ? identity.operator : undefined });

	let running: string | undefined;
	const onBirth = (device: string, fw: string) => {
		if (device === id && fw !== running)
			say(updateHint(id, running = fw));
	};
	const monitor = startMonitor({ port, caPem: pki.caPem, say, login: operatorOptions(identity.operator, readFileSync), onBirth });

	let stopDevice: () => unknown = () => undefined;
	// What setup mode is given: the broker, the id, and the identity (mtls: the certificate itself).
	const setupPlan = {
		settings: { mqttHost: "localhost", mqttPort: port, deviceId: id, ...(mode === "mtls" ? mtlsIdentity(id, PKI_DIR) : identity.deviceConfig) },
		leaveOpen, say,
	};
	if (process.env.MODDABLE) {
		say(`MODDABLE is set: running the firmware in the simulator (tools/sdk.ts)`);
		factoryReset(simulatorStateDir(libraryPath(SIM_BUILD)));
		const watchSetup = onSetupLine(setupPlan);
		// The fleet image: no broker, no id; setup mode gives them (and the identity).
		const launch = await prepareSimulator({
			port, caDer: bundledCa, otaKeyDer: bundledOtaKey, log: line => { sayDevice(line); watchSetup(line); },
			config: { mqttHost: "", deviceId: "", setupPort: await freePort() },
		});
		// A simulator that dies is said, with its last lines, and started again (sim-supervise.ts).
		const simulator = new SimulatorSupervisor({ launch, say, giveUp: reason => void shutdown(`simulator: giving up: ${reason}`, 1) });
		simulator.start();
		stopDevice = () => simulator.stop();
	}
	else {
		const storage = new MemoryStorage(NODE_DEVICE_STATE);
		say(emulatorSummary(storage, NODE_DEVICE_STATE, ROOT));
		const blobs = new FileBlobs(NODE_SETUP_DIR);
		new SettingsStore(blobs).clear();	// fresh each start: the broker's port changes from run to run
		const setup: NodeSetup = await startNodeSetup({
			image: EMULATOR_IMAGE, blobs, port: 0, log: line => sayDevice(`[dev-node] ${line}`),
			onSaved: () => {
				void setup.close();
				say("[dev-node] setup: settings stored, restarting into normal mode");
				const emulator = startEmulator({
					config: EMULATOR_IMAGE,
					stored: () => new SettingsStore(blobs).load(),
					bootReason: "setup",
					// A client certificate is in the dev PKI, next to the CA the broker uses.
					certsDir: mode === "mtls" ? PKI_DIR : CERTS_DIR,
					storage,
					// The "flash" survives the device's restarts, as a board's OTA partition does.
					updateTarget: new NodeUpdateTarget({ path: NODE_OTA_IMAGE }),
					print: line => sayDevice(`[dev-node] ${line}`),
				});
				stopDevice = () => emulator.stop();
			},
		});
		stopDevice = () => setup.close();
		await provisionDevice(setup.port, setup.code, setupPlan);
	}

	shutdownSteps = async () => {
		supervisor.stop();
		try { await stopDevice(); } catch (error) { say(`device stop failed: ${error}`); }
		await new Promise(resolve => setTimeout(resolve, 500));	// let the offline status reach the monitor
		await monitor.stop();
		await broker.stop();
		removeBrokerInfo();
	};
	process.on("SIGINT", () => void shutdown("SIGINT"));
	process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

let shutdownSteps: () => Promise<void> = async () => undefined;
let stopping = false;

/** Stops the device cleanly, then the broker; exits with `code`. */
async function shutdown(why: string, code = 0): Promise<void> {
	if (stopping)
		return;
	stopping = true;
	say(`${why}: stopping`);
	await shutdownSteps();
	process.exit(code);
}

main().catch(error => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
