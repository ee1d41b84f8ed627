/*
 * npm run bench: the firmware against a bare baseline app, side by side, in the Linux
 * simulator (instrumented builds), against one loopback TLS mosquitto.
 * npm run bench -- --fleet 500: 500 cores on Node against the loopback broker, a broker
 * restart, reconnects per second with and without jitter; a fleet release (rollout 10 %
 * then 100 %, concurrent downloads with and without the window). `--release-only`: only that.
 *
 * Numbers with their method, never assertions: the targets are read from the table.
 * See bench/README.md.
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MqttClient } from "mqtt";
import { startBroker, type Broker } from "../tools/broker/broker";
import { generatePki } from "../tools/pki";
import { buildFirmware, moddableHome } from "../tools/sdk";
import type { ImageServer } from "../tools/harness/image-server";
import { startProxy, type TcpProxy } from "../tools/harness/tcp-proxy";
import { delay, waitFor } from "../tools/harness/wait";
import { App, subscribe } from "./app";
import { runFleet } from "./fleet";
import { buildRawFetch, measureOta, startOtaServer } from "./ota";
import { cutConnections, summarize } from "./resume";
import { measureBudget, printBudget } from "./budget";
import { judge, tableOf, type Measurements } from "./report";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BENCH = join(ROOT, "bench");

// Firmware build config: interval 1000 ms is the config minimum; backoff 200..1000 ms.
const FW_ID = "bench-fw";
const FW_CONFIG = { mqttHost: "localhost", deviceId: FW_ID, interval: 1_000, backoffMin: 200, backoffMax: 1_000, keepalive: 60, connectTimeout: 10_000 };
// Baseline: one reading per 500 ms so that it, too, reaches 1,000 publishes in the
// ~500 s the firmware takes with a reading and a sync marker per second; fixed 1 s retry.
const BASE_ID = "bench-base";
const BASE_CONFIG = { mqttHost: "localhost", deviceId: BASE_ID, interval: 500, retry: 1_000 };
// SMN_BENCH_QUICK=1: a few minutes, for checking the bench itself; its figures are not results.
const QUICK = process.env.SMN_BENCH_QUICK === "1";
const PUBLISHES = QUICK ? 60 : 1_000;
const RESTARTS = QUICK ? 3 : 20;
const DOWNTIME = 1_000;		// ms the broker stays down per restart
const STEADY_AFTER = 20_000;	// ms after launch where steady state is read
const CUTS = QUICK ? 3 : 10;	// socket cuts with the broker alive (resumed handshakes)

// ---------------------------------------------------------------------------------

function sdkVersion(home: string): string {
	try {
		return readFileSync(join(home, "tools/VERSION"), "utf8").trim();
	}
	catch { /* older checkouts */ }
	try {
		return execFileSync("git", ["-C", home, "describe", "--tags", "--always"], { encoding: "utf8" }).trim();
	}
	catch {
		return "unknown";
	}
}

async function runSimulatorBench(home: string): Promise<void> {
	const started = Date.now();
	const work = mkdtempSync(join(tmpdir(), "smn-bench-"));
	const pkiDir = join(work, "pki");
	const apps: App[] = [];
	let broker: Broker | undefined;
	let subscriber: MqttClient | undefined;
	let otaServer: ImageServer | undefined;
	const proxies: TcpProxy[] = [];
	const step = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
	try {
		const pki = generatePki(pkiDir);
		broker = await startBroker({ engine: "mosquitto", pkiDir });
		step(`mosquitto ${broker.pid} on 127.0.0.1:${broker.port} (TLS)`);
		// Each app dials the broker through its own relay, so its connection can be cut.
		const [fwProxy, baseProxy] = [await startProxy(broker.port), await startProxy(broker.port)];
		proxies.push(fwProxy, baseProxy);
		const probe = join(BENCH, "probe/manifest.json");
		step("building the firmware (mcconfig -i -p lin) ...");
		const fw = new App("firmware", buildFirmware({ outDir: join(work, "fw"), caDer: join(pkiDir, "ca.der"), otaKeyDer: pki.otaKeyDer, manifest: probe, config: { ...FW_CONFIG, mqttPort: fwProxy.port } }));
		step("building the baseline ...");
		const base = new App("baseline", buildFirmware({ outDir: join(work, "base"), caDer: join(pkiDir, "ca.der"), app: join(BENCH, "baseline/manifest.json"), manifest: probe, config: { ...BASE_CONFIG, mqttPort: baseProxy.port } }));
		fw.broker = `localhost:${fwProxy.port}`;
		base.broker = `localhost:${baseProxy.port}`;
		apps.push(fw, base);

		step("building the memory budget app ...");
		const budgetApp = new App("budget", buildFirmware({ outDir: join(work, "budget"), caDer: join(pkiDir, "ca.der"), manifest: join(BENCH, "budget/manifest.json"), config: { ...FW_CONFIG, deviceId: "bench-budget", mqttPort: broker.port } }));

		const ota = await startOtaServer(pkiDir);
		otaServer = ota.server;
		step("building the bare HTTPS downloader ...");
		const rawfetch = buildRawFetch(join(work, "rawfetch"), join(pkiDir, "ca.der"), ota.server, BENCH);

		subscriber = await subscribe(pkiDir, broker.port, [`devices/${FW_ID}/#`, `bench/${BASE_ID}/#`], topic => {
			const app = topic.startsWith(`devices/${FW_ID}/`) ? fw : topic.startsWith(`bench/${BASE_ID}/`) ? base : undefined;
			app?.publishes.push(Date.now());
		});
		const firstReading = new Map<App, number>();
		subscriber.on("message", topic => {
			const app = topic === `devices/${FW_ID}/telemetry` ? fw : topic === `bench/${BASE_ID}/telemetry` ? base : undefined;
			if (app && !firstReading.has(app))
				firstReading.set(app, Date.now());
		});

		// Launch one at a time, so neither start-up competes with the other's.
		const firstPublish = new Map<App, number>();
		for (const app of apps) {
			step(`launching the ${app.name} in mcsim`);
			app.launch(1_500);
			const at = await waitFor(`the ${app.name}'s first publish`, () => app.publishes[0], 60_000);
			firstPublish.set(app, at - app.launchedAt);
			await waitFor(`the ${app.name}'s first reading`, () => firstReading.get(app), 30_000);
		}

		// Steady state.
		await waitFor("steady state", () => apps.every(app => Date.now() - app.launchedAt >= STEADY_AFTER), STEADY_AFTER + 5_000);
		const steady = await Promise.all(apps.map(app => app.heapAfterGc()));
		const steadyPeaks = apps.map(app => ({ ...app.peaks }));
		step(`steady state: firmware chunk ${steady[0].chunk} slot ${steady[0].slot}; baseline chunk ${steady[1].chunk} slot ${steady[1].slot}`);

		// 1,000 publishes each.
		step(`waiting for ${PUBLISHES} publishes from each (about ${PUBLISHES / 2} s) ...`);
		let lastReport = Date.now();
		await waitFor(`${PUBLISHES} publishes`, () => {
			if (Date.now() - lastReport > 60_000) {
				lastReport = Date.now();
				step(`publishes so far: firmware ${fw.publishes.length}, baseline ${base.publishes.length}`);
			}
			return apps.every(app => app.publishes.length >= PUBLISHES);
		}, 900_000);
		const published = apps.map(app => app.publishes.length);
		const afterPublishes = await Promise.all(apps.map(app => app.heapAfterGc()));
		const publishPeaks = apps.map(app => ({ ...app.peaks }));
		step(`after ${PUBLISHES} publishes: firmware chunk ${afterPublishes[0].chunk} slot ${afterPublishes[0].slot}; baseline chunk ${afterPublishes[1].chunk} slot ${afterPublishes[1].slot}`);

		// 20 broker restarts.
		// An app that crashes is recorded (survived, ended) and left out of what follows.
		const reconnect = new Map<App, number[]>(apps.map(app => [app, []]));
		const restartsFrom = Date.now();
		const survived = new Map<App, number>(apps.map(app => [app, 0]));
		for (let round = 1; round <= RESTARTS && apps.some(app => !app.ended); round++) {
			await broker.restart(DOWNTIME);
			const up = Date.now();
			for (const app of apps) {
				if (app.ended)
					continue;
				const at = await waitFor(`the ${app.name}'s first publish after restart ${round}`, () => app.publishedAfter(up) ?? (app.ended ? -1 : undefined), 30_000);
				if (at < 0) {
					step(`the ${app.name} died during restart ${round}: ${app.ended}`);
					continue;
				}
				reconnect.get(app)!.push(at - up);
				survived.set(app, round);
			}
			await delay(1_000);
			if (round % 5 === 0)
				step(`restart ${round}/${RESTARTS}: reconnect firmware ${reconnect.get(fw)!.at(-1)} ms, baseline ${reconnect.get(base)!.at(-1)} ms`);
		}
		await delay(4_000);
		const gone = { chunk: null, slot: null, samples: 0 };
		const afterRestarts = await Promise.all(apps.map(app => app.ended ? gone : app.heapAfterGc()));
		const restartPeaks = apps.map(app => ({ ...app.peaks }));
		// Every handshake after a restart is a full one: mosquitto forgot its sessions.
		const full = apps.map(app => summarize(app.handshakesBetween(restartsFrom, Date.now())));

		// Socket cuts with the broker alive: each reconnect can resume its session.
		const cutsFrom = Date.now();
		step(`${CUTS} socket cuts, broker alive ...`);
		await cutConnections([{ app: fw, proxy: fwProxy }, { app: base, proxy: baseProxy }].filter(({ app }) => !app.ended), CUTS);
		const resumed = apps.map(app => summarize(app.handshakesBetween(cutsFrom, Date.now())));
		step(`handshake full ${full[0].medianMs} ms, resumed ${resumed[0].medianMs} ms (${resumed[0].resumed}/${resumed[0].connects} resumed); baseline ${full[1].medianMs} / ${resumed[1].medianMs} ms`);

		// OTA download + verify, with MQTT busy and one reconnect, against a bare download of the same image.
		const otaFigures = fw.ended ? null : await measureOta(fw, rawfetch, ota.server, ota.image, readFileSync(pki.otaSigningKey),
			payload => subscriber!.publishAsync(`devices/${FW_ID}/cmd`, payload).then(() => undefined), () => fwProxy.cut())
			.catch(error => { step(`OTA measurement failed: ${error}`); return null; });
		const update = otaFigures && {
			peaks: fw.peaksBetween(otaFigures.window.from, otaFigures.window.to + 1_500),
			live: fw.samples.filter(sample => sample.at >= otaFigures.window.from && sample.at <= otaFigures.window.to),
			reconnect: summarize(fw.handshakesBetween(otaFigures.window.from, otaFigures.window.to)),
		};
		if (otaFigures && update)
			step(`OTA: ${otaFigures.bytes} bytes, firmware download+verify ${otaFigures.otaMs} ms, bare download ${otaFigures.rawMs} ms; peak chunk ${update.peaks.chunkUsed} slot ${update.peaks.slotUsed}; reconnect during it: ${update.reconnect.resumed}/${update.reconnect.connects} resumed`);

		for (const app of apps)
			if (!app.ended) {
				app.stopping = true;
				await app.simulator.stop();
			}
		step("memory budget: building the parts one by one ...");
		const budget = await measureBudget(budgetApp).catch(error => { step(`budget failed: ${error}`); return []; });

		const measured: Measurements = {
			steadyAfter: STEADY_AFTER, publishes: PUBLISHES, restarts: RESTARTS, downtime: DOWNTIME, cuts: CUTS,
			backoff: `${FW_CONFIG.backoffMin}..${FW_CONFIG.backoffMax} ms`, backoffMax: FW_CONFIG.backoffMax, baseRetry: BASE_CONFIG.retry,
			steady: [steady[0], steady[1]], steadyPeaks: [steadyPeaks[0], steadyPeaks[1]],
			afterPublishes: [afterPublishes[0], afterPublishes[1]], published: [published[0], published[1]], publishPeaks: [publishPeaks[0], publishPeaks[1]],
			afterRestarts: [afterRestarts[0], afterRestarts[1]], restartPeaks: [restartPeaks[0], restartPeaks[1]], survived: [survived.get(fw)!, survived.get(base)!],
			firstPublish: [firstPublish.get(fw)!, firstPublish.get(base)!],
			firstReading: [firstReading.get(fw)! - fw.launchedAt, firstReading.get(base)! - base.launchedAt],
			reconnect: [reconnect.get(fw)!, reconnect.get(base)!],
			full: [full[0], full[1]], resumed: [resumed[0], resumed[1]],
			ota: otaFigures, update,
		};
		const table = tableOf(measured);
		table.print();
		const targets = judge(table, measured);
		printBudget(budget, [steady[0], steady[1]]);
		console.log("\nTargets (read from the numbers, not asserted):");
		for (const target of targets)
			console.log(`  ${target.met ? "MET    " : "NOT MET"} ${target.target}: ${target.detail}`);

		const version = sdkVersion(home);
		const date = new Date().toISOString().slice(0, 10);
		mkdirSync(join(BENCH, "results"), { recursive: true });
		const file = join(QUICK ? tmpdir() : join(BENCH, "results"), `${date}-${version}${QUICK ? "-quick" : ""}.json`);
		writeFileSync(file, JSON.stringify({
			date: new Date().toISOString(), sdk: version, platform: "lin (mcsim, x86_64, -i release)", node: process.version,
			config: { firmware: FW_CONFIG, baseline: BASE_CONFIG, publishes: PUBLISHES, restarts: RESTARTS, downtime: DOWNTIME, steadyAfter: STEADY_AFTER },
			rows: table.rows, targets, budget,
			raw: {
				published, handshakes: { firmware: fw.handshakes, baseline: base.handshakes }, ended: { firmware: fw.ended ?? null, baseline: base.ended ?? null }, ota: otaFigures,
				reconnect: { firmware: reconnect.get(fw), baseline: reconnect.get(base) },
				samples: { firmware: fw.samples, baseline: base.samples },
			},
			durationSeconds: Math.round((Date.now() - started) / 1000),
		}, null, "\t") + "\n");
		step(`saved ${file}`);
	}
	catch (error) {
		for (const app of apps)
			if (app.simulator)
				console.error(`--- ${app.name} trace (last 30 lines)\n${app.simulator.lines.slice(-30).join("\n")}`);
		throw error;
	}
	finally {
		for (const app of apps)
			await app.simulator?.stop().catch(() => undefined);
		await subscriber?.endAsync(true).catch(() => undefined);
		await otaServer?.close().catch(() => undefined);
		for (const proxy of proxies)
			await proxy.close().catch(() => undefined);
		await broker?.stop().catch(() => undefined);
		rmSync(work, { recursive: true, force: true });
	}
}

// ---------------------------------------------------------------------------------

const args = process.argv.slice(2);
const fleetAt = args.indexOf("--fleet");
if (fleetAt >= 0) {
	const count = Number(args[fleetAt + 1] ?? 2000);
	await runFleet(Number.isInteger(count) && count > 0 ? count : 2000, args.includes("--release-only"));
}
else {
	const { home, reason } = moddableHome();
	if (!home)
		console.log(`bench: ${reason}; nothing measured (set MODDABLE to a Moddable SDK with its Linux tools built).`);
	else
		await runSimulatorBench(home);
}
process.exit(0);
