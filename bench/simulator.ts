/*
 * npm run bench (with MODDABLE): the firmware against a bare baseline app, side by
 * side, in the Linux simulator (instrumented builds), against one loopback TLS
 * mosquitto. Phases, in order: builds, launch + steady state, 1,000 publishes, 20
 * broker restarts, 10 socket cuts, the update under load; the memory budget app runs
 * beside the publish phase.
 *
 * - Fails, never retries silently: when one side crashes or stops publishing where it
 *   must, the run ends with an error naming that side and its last trace lines (the
 *   broker restarts are the exception: surviving them is a figure, so a crash there is
 *   recorded, reported and the other side goes on).
 * - Refuses a firmware whose traced sampling interval is not FW_CONFIG.interval, or
 *   whose boot is not the first (its state was not clean).
 * - Only waiting was cut: during the publish phase (heap figures only, nothing timed)
 *   the budget app and the bare downloader build, and the budget app runs (its own
 *   heap figures); both are done before the timed phases start.
 * See bench/README.md.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { startBroker, type Broker } from "../tools/broker/broker";
import { generatePki } from "../tools/pki";
import type { ImageServer } from "../tools/harness/image-server";
import { startProxy, type TcpProxy } from "../tools/harness/tcp-proxy";
import { delay } from "../tools/harness/wait";
import { App, subscribe } from "./app";
import { lockBuilds, startBuild } from "./builds";
import { measureOta, startOtaServer, IMAGE_PATH } from "./ota";
import { cutConnections, summarize } from "./resume";
import { measureBudget } from "./budget";
import { judge, tableOf, type Measurements } from "./report";
import { LoadSampler } from "./provenance";
import { restartBroker } from "./restarts";

// Firmware build config: interval 1000 ms is the config minimum; backoff 200..1000 ms.
export const FW_ID = "bench-fw";
export const FW_CONFIG = { mqttHost: "localhost", deviceId: FW_ID, interval: 1_000, backoffMin: 200, backoffMax: 1_000, keepalive: 60, connectTimeout: 10_000 };
// Baseline: one reading per 500 ms so that it, too, reaches 1,000 publishes in the
// ~500 s the firmware takes with a reading and a sync marker per second; fixed 1 s retry.
const BASE_ID = "bench-base";
export const BASE_CONFIG = { mqttHost: "localhost", deviceId: BASE_ID, interval: 500, retry: 1_000 };
// SMN_BENCH_QUICK=1: a few minutes, for checking the bench itself; its figures are not results.
export const QUICK = process.env.SMN_BENCH_QUICK === "1";
export const PUBLISHES = QUICK ? 60 : 1_000;
export const RESTARTS = QUICK ? 3 : 20;
export const DOWNTIME = 1_000;		// ms the broker stays down per restart
export const STEADY_AFTER = 20_000;	// ms after launch where steady state is read
export const CUTS = QUICK ? 3 : 10;	// socket cuts with the broker alive (resumed handshakes)

export interface Run {
	measured: Measurements;
	budget: Awaited<ReturnType<typeof measureBudget>>;
	raw: Record<string, unknown>;
	phases: { phase: string; seconds: number }[];
	load: LoadSampler;
}

/** Reads the firmware's start line; throws unless it samples every FW_CONFIG.interval ms on its first boot. */
function checkFreshStart(fw: App): Promise<void> {
	return fw.waitFor("the firmware's start line (device: ... boot N ... every N ms)", () => fw.lines.find(l => /^device: .* every \d+ ms$/.test(l.text)), 30_000).then(({ text }) => {
		const every = Number(/every (\d+) ms$/.exec(text)![1]);
		const boot = Number(/ boot (\d+)/.exec(text)?.[1]);
		if (every !== FW_CONFIG.interval)
			throw fw.failure(`it samples every ${every} ms, not the ${FW_CONFIG.interval} ms it was built with (a stored telemetry.interval?): nothing measured is reported`);
		if (boot !== 1)
			throw fw.failure(`it started as boot ${boot}, not 1: its state folder was not clean`);
	});
}

export async function runSimulatorBench(root: string, log: (text: string) => void): Promise<Run> {
	const started = Date.now();
	const load = new LoadSampler();
	const phases: { phase: string; seconds: number }[] = [];
	let phaseStart = started, phaseName = "builds";
	const step = (text: string) => log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s, load ${load.sample().toFixed(1)}] ${text}`);
	const phase = (name: string) => {
		phases.push({ phase: phaseName, seconds: Math.round((Date.now() - phaseStart) / 1000) });
		[phaseStart, phaseName] = [Date.now(), name];
	};
	const work = mkdtempSync(join(tmpdir(), "smn-bench-"));
	const pkiDir = join(work, "pki");
	const builds = lockBuilds(root);
	const apps: App[] = [];
	const helpers: App[] = [];	// budget app, bare downloader
	let broker: Broker | undefined;
	let subscriber: MqttClient | undefined;
	let otaServer: ImageServer | undefined;
	const proxies: TcpProxy[] = [];
	try {
		const pki = generatePki(pkiDir);
		broker = await startBroker({ engine: "mosquitto", pkiDir });
		step(`mosquitto ${broker.pid} on 127.0.0.1:${broker.port} (TLS); builds in ${builds.dir}`);
		// Each app dials the broker through its own relay, so its connection can be cut.
		const [fwProxy, baseProxy] = [await startProxy(broker.port), await startProxy(broker.port)];
		proxies.push(fwProxy, baseProxy);
		const probe = join(root, "bench/probe/manifest.json");
		const caDer = join(pkiDir, "ca.der");
		step("building the firmware and the baseline (mcconfig -i -m -p lin -t build), side by side ...");
		const fwBuild = startBuild(builds.dir, work, "fw", { caDer, otaKeyDer: pki.otaKeyDer, config: { ...FW_CONFIG, mqttPort: fwProxy.port } }, probe);
		const baseBuild = startBuild(builds.dir, work, "base", { caDer, app: join(root, "bench/baseline/manifest.json"), config: { ...BASE_CONFIG, mqttPort: baseProxy.port } }, probe);
		const fw = new App("firmware", await fwBuild.library);
		const base = new App("baseline", await baseBuild.library);
		fw.broker = `localhost:${fwProxy.port}`;
		base.broker = `localhost:${baseProxy.port}`;
		apps.push(fw, base);
		const ota = await startOtaServer(pkiDir);
		otaServer = ota.server;

		const answers = new Map<string, string>();	// the firmware's command results by id
		subscriber = await subscribe(pkiDir, broker.port, [`devices/${FW_ID}/#`, `bench/${BASE_ID}/#`], (topic, payload) => {
			const app = topic.startsWith(`devices/${FW_ID}/`) ? fw : topic.startsWith(`bench/${BASE_ID}/`) ? base : undefined;
			app?.publishes.push(Date.now());
			if (app && !app.firstReading && (topic === `devices/${FW_ID}/telemetry` || topic === `bench/${BASE_ID}/telemetry`))
				app.firstReading = Date.now();
			if (topic === `devices/${FW_ID}/cmd/result`) {
				const id = /"id":"([^"]*)"/.exec(payload)?.[1];
				if (id)
					answers.set(id, payload);
			}
		});

		// Launch one at a time, so neither start-up competes with the other's.
		phase("launch and steady state");
		const firstPublish = new Map<App, number>();
		for (const app of apps) {
			step(`launching the ${app.name} in mcsim`);
			app.launch(1_500);
			if (app === fw)
				await checkFreshStart(fw);
			const at = await app.waitFor(`the ${app.name}'s first publish`, () => app.publishes[0], 60_000);
			firstPublish.set(app, at - app.launchedAt);
			await app.waitFor(`the ${app.name}'s first reading`, () => app.firstReading, 30_000);
		}
		step(`the firmware samples every ${FW_CONFIG.interval} ms from a clean state (boot 1, state in ${fwBuild.stateDir})`);

		// Steady state.
		await delay(Math.max(0, ...apps.map(app => app.launchedAt + STEADY_AFTER - Date.now())));
		const steady = await Promise.all(apps.map(app => app.heapAfterGc()));
		const steadyPeaks = apps.map(app => ({ ...app.peaks }));
		step(`steady state: firmware chunk ${steady[0].chunk} slot ${steady[0].slot}; baseline chunk ${steady[1].chunk} slot ${steady[1].slot}`);

		// 1,000 publishes each; the other two apps build meanwhile (nothing here is timed).
		phase("publishes");
		step(`waiting for ${PUBLISHES} publishes from each (about ${Math.round(PUBLISHES / 2)} s); meanwhile building the budget app and the bare HTTPS downloader, then running the budget app ...`);
		const budgetBuild = startBuild(builds.dir, work, "budget", { caDer, otaKeyDer: pki.otaKeyDer, config: { ...FW_CONFIG, deviceId: "bench-budget", mqttPort: broker.port } }, join(root, "bench/budget/manifest.json"));
		const rawBuild = startBuild(builds.dir, work, "rawfetch", { caDer, app: join(root, "bench/rawfetch/manifest.json"), config: { imageHost: "localhost", imagePort: ota.server.port, imagePath: IMAGE_PATH } });
		const budgetRun = budgetBuild.library.then(library => {
			const budgetApp = new App("budget", library);
			helpers.push(budgetApp);
			step("memory budget: the budget app builds the parts one by one ...");
			return measureBudget(budgetApp);
		});
		let budgetFailure: unknown;
		budgetRun.catch(error => { budgetFailure = error; });	// ends the publish wait at once; awaited below
		let lastReport = Date.now();
		for (const app of apps)
			await app.waitFor(`${PUBLISHES} publishes`, () => {
				if (budgetFailure)
					throw budgetFailure;
				if (Date.now() - lastReport > 60_000) {
					lastReport = Date.now();
					step(`publishes so far: firmware ${fw.publishes.length}, baseline ${base.publishes.length}`);
				}
				return app.publishes.length >= PUBLISHES;
			}, 900_000);
		const published = apps.map(app => app.publishes.length);
		const afterPublishes = await Promise.all(apps.map(app => app.heapAfterGc()));
		const publishPeaks = apps.map(app => ({ ...app.peaks }));
		step(`after ${PUBLISHES} publishes: firmware chunk ${afterPublishes[0].chunk} slot ${afterPublishes[0].slot}; baseline chunk ${afterPublishes[1].chunk} slot ${afterPublishes[1].slot}`);
		const budget = await budgetRun;
		const rawfetch = new App("rawfetch", await rawBuild.library);
		helpers.push(rawfetch);
		step(`memory budget measured (${budget.length} parts); the bare downloader is built`);

		// 20 broker restarts: surviving them is a figure, so a crash is recorded and reported.
		phase("broker restarts");
		const restartsFrom = Date.now();
		const restarts = await restartBroker(broker, apps, RESTARTS, DOWNTIME, step);
		await delay(4_000);
		const gone = { chunk: null, slot: null, samples: 0 };
		const afterRestarts = await Promise.all(apps.map(app => app.ended ? gone : app.heapAfterGc()));
		const restartPeaks = apps.map(app => ({ ...app.peaks }));
		// Every handshake after a restart is a full one: mosquitto forgot its sessions.
		const full = apps.map(app => summarize(app.handshakesBetween(restartsFrom, Date.now())));

		// Socket cuts with the broker alive: each reconnect can resume its session.
		phase("socket cuts");
		const cutsFrom = Date.now();
		step(`${CUTS} socket cuts, broker alive ...`);
		await cutConnections([{ app: fw, proxy: fwProxy }, { app: base, proxy: baseProxy }].filter(({ app }) => !app.ended), CUTS);
		const resumed = apps.map(app => summarize(app.handshakesBetween(cutsFrom, Date.now())));
		step(`handshake full ${full[0].medianMs} ms, resumed ${resumed[0].medianMs} ms (${resumed[0].resumed}/${resumed[0].connects} resumed); baseline ${full[1].medianMs} / ${resumed[1].medianMs} ms`);

		// OTA download + verify, with MQTT busy and one reconnect, against a bare download of the same image.
		phase("update under load");
		const otaFigures = fw.ended ? null : await measureOta(fw, rawfetch, ota.image, readFileSync(pki.otaSigningKey), ota.server,
			payload => subscriber!.publishAsync(`devices/${FW_ID}/cmd`, payload).then(() => undefined), () => fwProxy.cut(), answers, step);
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
		phase("end");

		const measured: Measurements = {
			steadyAfter: STEADY_AFTER, publishes: PUBLISHES, restarts: RESTARTS, downtime: DOWNTIME, cuts: CUTS,
			backoff: `${FW_CONFIG.backoffMin}..${FW_CONFIG.backoffMax} ms`, backoffMax: FW_CONFIG.backoffMax, baseRetry: BASE_CONFIG.retry,
			steady: [steady[0], steady[1]], steadyPeaks: [steadyPeaks[0], steadyPeaks[1]],
			afterPublishes: [afterPublishes[0], afterPublishes[1]], published: [published[0], published[1]], publishPeaks: [publishPeaks[0], publishPeaks[1]],
			afterRestarts: [afterRestarts[0], afterRestarts[1]], restartPeaks: [restartPeaks[0], restartPeaks[1]], survived: [restarts.survived[0], restarts.survived[1]],
			firstPublish: [firstPublish.get(fw)!, firstPublish.get(base)!],
			firstReading: [fw.firstReading! - fw.launchedAt, base.firstReading! - base.launchedAt],
			reconnect: [restarts.reconnect[0], restarts.reconnect[1]],
			full: [full[0], full[1]], resumed: [resumed[0], resumed[1]],
			ota: otaFigures, update,
		};
		const raw = {
			published, handshakes: { firmware: fw.handshakes, baseline: base.handshakes }, ended: { firmware: fw.ended ?? null, baseline: base.ended ?? null }, ota: otaFigures,
			reconnect: { firmware: restarts.reconnect[0], baseline: restarts.reconnect[1] },
			samples: { firmware: fw.samples, baseline: base.samples },
		};
		return { measured, budget, raw, phases: phases.filter(p => p.phase !== "end"), load };
	}
	catch (error) {
		for (const app of [...apps, ...helpers])
			if (app.simulator)
				log(`--- ${app.name}'s last trace lines${app.ended ? ` (ended: ${app.ended})` : ""}\n${app.lastLines(30)}`);
		throw error;
	}
	finally {
		for (const app of [...apps, ...helpers])
			await app.simulator?.stop().catch(() => undefined);
		await subscriber?.endAsync(true).catch(() => undefined);
		await otaServer?.close().catch(() => undefined);
		for (const proxy of proxies)
			await proxy.close().catch(() => undefined);
		await broker?.stop().catch(() => undefined);
		builds.release();
		rmSync(work, { recursive: true, force: true });
	}
}

