/*
 * npm run bench: the firmware against a bare baseline app, side by side, in the Linux
 * simulator (instrumented builds), against one loopback TLS mosquitto.
 * npm run bench -- --fleet 500: 500 cores on Node against the loopback broker, a broker
 * restart, reconnects per second with and without jitter.
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
import { delay, waitFor } from "../tools/harness/wait";
import { App, median, subscribe } from "./app";
import { runFleet } from "./fleet";
import { buildRawFetch, measureOta, startOtaServer, throughput } from "./ota";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BENCH = join(ROOT, "bench");

// Firmware build config: interval 1000 ms is the config minimum; backoff 200..1000 ms.
const FW_ID = "bench-fw";
const FW_CONFIG = { mqttHost: "localhost", deviceId: FW_ID, interval: 1_000, backoffMin: 200, backoffMax: 1_000, keepalive: 60, connectTimeout: 10_000 };
// Baseline: one reading per 500 ms so that it, too, reaches 1,000 publishes in the
// ~500 s the firmware takes with a reading and a sync marker per second; fixed 1 s retry.
const BASE_ID = "bench-base";
const BASE_CONFIG = { mqttHost: "localhost", deviceId: BASE_ID, interval: 500, retry: 1_000 };
const PUBLISHES = 1_000;
const RESTARTS = 20;
const DOWNTIME = 1_000;		// ms the broker stays down per restart
const STEADY_AFTER = 20_000;	// ms after launch where steady state is read

// ---------------------------------------------------------------------------------

interface Row { figure: string; unit: string; firmware: number | null; baseline: number | null; ratio: number | null; method: string }

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
	const step = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
	try {
		const pki = generatePki(pkiDir);
		broker = await startBroker({ engine: "mosquitto", pkiDir });
		step(`mosquitto ${broker.pid} on 127.0.0.1:${broker.port} (TLS)`);
		const probe = join(BENCH, "probe/manifest.json");
		step("building the firmware (mcconfig -i -p lin) ...");
		const fw = new App("firmware", buildFirmware({ outDir: join(work, "fw"), caDer: join(pkiDir, "ca.der"), otaKeyDer: pki.otaKeyDer, manifest: probe, config: { ...FW_CONFIG, mqttPort: broker.port } }));
		step("building the baseline ...");
		const base = new App("baseline", buildFirmware({ outDir: join(work, "base"), caDer: join(pkiDir, "ca.der"), app: join(BENCH, "baseline/manifest.json"), manifest: probe, config: { ...BASE_CONFIG, mqttPort: broker.port } }));
		apps.push(fw, base);

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

		// One TLS handshake + MQTT CONNECT as the firmware traces it: connecting -> online.
		const handshakes: number[] = [];
		for (let i = 1; i < fw.transitions.length; i++) {
			const { at, from, to } = fw.transitions[i];
			const previous = fw.transitions[i - 1];
			if (from === "connecting" && to === "online" && previous.to === "connecting")
				handshakes.push(at - previous.at);
		}
		const handshake = handshakes.length ? median(handshakes) : null;

		// OTA download + verify against a bare download of the same image (firmware only).
		const otaFigures = fw.ended ? null : await measureOta(fw, rawfetch, ota.server, ota.image, readFileSync(pki.otaSigningKey),
			payload => subscriber!.publishAsync(`devices/${FW_ID}/cmd`, payload).then(() => undefined))
			.catch(error => { step(`OTA measurement failed: ${error}`); return null; });
		if (otaFigures)
			step(`OTA: ${otaFigures.bytes} bytes, firmware download+verify ${otaFigures.otaMs} ms, bare download ${otaFigures.rawMs} ms`);

		for (const app of apps)
			if (!app.ended) {
				app.stopping = true;
				await app.simulator.stop();
			}

		// ---- the table
		const rows: Row[] = [];
		const add = (figure: string, unit: string, fwValue: number | null, baseValue: number | null, method: string) => {
			const firmware = fwValue === null || Number.isNaN(fwValue) ? null : fwValue;
			const baseline = baseValue === null || Number.isNaN(baseValue) ? null : baseValue;
			rows.push({ figure, unit, firmware, baseline, ratio: firmware !== null && baseline ? Math.round(firmware / baseline * 100) / 100 : null, method });
		};
		const gcMethod = "median of 3 probe samples, each right after Debug.gc(), XS Chunk/Slot Heap Used (instrumentation)";
		const heapMethod = "largest heap XS allocated (instruments 'Chunk/Slot available'; mcconfig's lin defaults 32 KB chunks / 2048 slots, grown when a GC cannot free enough)";
		const usedMethod = "largest 'Chunk/Slot used' of the 1/s instruments samples (includes garbage not yet collected)";
		add("steady chunk used after GC", "B", steady[0].chunk, steady[1].chunk, `${STEADY_AFTER / 1000} s after launch, ${gcMethod}`);
		add("steady slot used after GC", "B", steady[0].slot, steady[1].slot, `same samples; lin slots are 32 B (16 B on ESP32)`);
		add("peak chunk heap (steady)", "B", steadyPeaks[0].chunkHeap, steadyPeaks[1].chunkHeap, heapMethod);
		add("peak slot heap (steady)", "B", steadyPeaks[0].slotHeap, steadyPeaks[1].slotHeap, heapMethod);
		add("peak chunk used, sampled (steady)", "B", steadyPeaks[0].chunkUsed, steadyPeaks[1].chunkUsed, usedMethod);
		add("peak slot used, sampled (steady)", "B", steadyPeaks[0].slotUsed, steadyPeaks[1].slotUsed, usedMethod);
		add("peak stack (steady)", "B", steadyPeaks[0].stack, steadyPeaks[1].stack, "instruments 'Stack used' (the stack's high-water mark)");
		add(`chunk used after GC, ${PUBLISHES} publishes`, "B", afterPublishes[0].chunk, afterPublishes[1].chunk, `once each saw >= ${PUBLISHES} publishes at the subscriber (firmware: birth, readings every 1 s and their sync markers; baseline: readings every 500 ms); ${gcMethod}`);
		add(`slot used after GC, ${PUBLISHES} publishes`, "B", afterPublishes[0].slot, afterPublishes[1].slot, "same samples");
		add(`chunk growth per publish`, "B", per(afterPublishes[0].chunk - steady[0].chunk, published[0]), per(afterPublishes[1].chunk - steady[1].chunk, published[1]), "(after publishes - steady) / publishes counted");
		add(`peak chunk heap, ${PUBLISHES} publishes`, "B", publishPeaks[0].chunkHeap, publishPeaks[1].chunkHeap, heapMethod + ", since launch");
		add(`peak slot heap, ${PUBLISHES} publishes`, "B", publishPeaks[0].slotHeap, publishPeaks[1].slotHeap, heapMethod + ", since launch");
		add(`chunk used after GC, ${RESTARTS} restarts`, "B", afterRestarts[0].chunk, afterRestarts[1].chunk, `${RESTARTS} mosquitto restarts (SIGTERM, ${DOWNTIME} ms down), 4 s after the last reconnect; ${gcMethod}`);
		add(`slot used after GC, ${RESTARTS} restarts`, "B", afterRestarts[0].slot, afterRestarts[1].slot, "same samples");
		const growth = (i: number, key: "chunk" | "slot") => afterRestarts[i][key] === null ? null : per(afterRestarts[i][key]! - afterPublishes[i][key], RESTARTS);
		add("restarts survived", "n", survived.get(fw)!, survived.get(base)!, `of ${RESTARTS}; a crash ends the app's run (see "ended" in the JSON)`);
		add("chunk growth per restart", "B", growth(0, "chunk"), growth(1, "chunk"), `(after restarts - after publishes) / ${RESTARTS}`);
		add("slot growth per restart", "B", growth(0, "slot"), growth(1, "slot"), `(after restarts - after publishes) / ${RESTARTS}`);
		add(`peak chunk heap, ${RESTARTS} restarts`, "B", restartPeaks[0].chunkHeap, restartPeaks[1].chunkHeap, heapMethod + ", whole run");
		add(`peak slot heap, ${RESTARTS} restarts`, "B", restartPeaks[0].slotHeap, restartPeaks[1].slotHeap, heapMethod + ", whole run");
		add("peak stack, whole run", "B", restartPeaks[0].stack, restartPeaks[1].stack, "instruments 'Stack used'");
		add("launch to first publish", "ms", firstPublish.get(fw)!, firstPublish.get(base)!, "spawn of xvfb-run/mcsim to the first message at the subscriber (firmware: retained birth; baseline: first reading, sent on connect); one launch each, one at a time");
		add("launch to first reading", "ms", firstReading.get(fw)! - fw.launchedAt, firstReading.get(base)! - base.launchedAt, "same, first telemetry reading (firmware samples every 1 s from start, baseline on connect)");
		add("restart to next publish, median", "ms", median(reconnect.get(fw)!) ?? null, median(reconnect.get(base)!) ?? null, `broker listening again (TLS handshake answered) to the next message at the subscriber, ${RESTARTS} restarts; firmware backoff ${FW_CONFIG.backoffMin}..${FW_CONFIG.backoffMax} ms full jitter, baseline fixed ${BASE_CONFIG.retry} ms`);
		const worst = (list: number[]) => list.length ? Math.max(...list) : null;
		add("restart to next publish, max", "ms", worst(reconnect.get(fw)!), worst(reconnect.get(base)!), "same");
		add("firmware handshake (connecting -> online)", "ms", handshake, null, "median over its connects, from its trace lines");
		if (otaFigures) {
			const otaMethod = `${otaFigures.bytes} B image from a loopback HTTPS server; firmware: ota.start, trace 'ota: 1.0.0 -> 9.9.9' to 'ota: applying' (download, SHA-256, file target, verify); baseline column: bench/rawfetch, the SDK http client alone, 'start' to 'done'; same run, one after the other`;
			add("OTA download+verify vs bare download", "ms", otaFigures.otaMs, otaFigures.rawMs, otaMethod);
			add("OTA throughput vs bare download", "KB/s", throughput(otaFigures.bytes, otaFigures.otaMs), throughput(otaFigures.bytes, otaFigures.rawMs), "same runs; the lin simulator reads sockets at about 40 KB/s, so only the ratio carries over to a board");
		}

		printTable(rows);
		const targets = judge(rows, handshake);
		console.log("\nTargets (read from the numbers, not asserted):");
		for (const target of targets)
			console.log(`  ${target.met ? "MET    " : "NOT MET"} ${target.target}: ${target.detail}`);

		const version = sdkVersion(home);
		const date = new Date().toISOString().slice(0, 10);
		mkdirSync(join(BENCH, "results"), { recursive: true });
		const file = join(BENCH, "results", `${date}-${version}.json`);
		writeFileSync(file, JSON.stringify({
			date: new Date().toISOString(), sdk: version, platform: "lin (mcsim, x86_64, -i release)", node: process.version,
			config: { firmware: FW_CONFIG, baseline: BASE_CONFIG, publishes: PUBLISHES, restarts: RESTARTS, downtime: DOWNTIME, steadyAfter: STEADY_AFTER },
			rows, targets,
			raw: {
				published, handshakes, ended: { firmware: fw.ended ?? null, baseline: base.ended ?? null }, ota: otaFigures,
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
		await broker?.stop().catch(() => undefined);
		rmSync(work, { recursive: true, force: true });
	}
}

function per(delta: number, count: number): number {
	return Math.round(delta / count * 10) / 10;
}

function printTable(rows: Row[]): void {
	const format = (value: number | null) => value === null ? "-" : String(value);
	const widths = [Math.max(...rows.map(r => r.figure.length + r.unit.length + 3)), 9, 9, 6];
	console.log("\n" + ["figure".padEnd(widths[0]), "firmware".padStart(widths[1]), "baseline".padStart(widths[2]), "ratio".padStart(widths[3]), "method"].join("  "));
	for (const row of rows)
		console.log([`${row.figure} (${row.unit})`.padEnd(widths[0]), format(row.firmware).padStart(widths[1]), format(row.baseline).padStart(widths[2]), format(row.ratio).padStart(widths[3]), row.method].join("  "));
}

function judge(rows: Row[], handshake: number | null): { target: string; met: boolean; detail: string }[] {
	const row = (figure: string) => rows.find(r => r.figure === figure)!;
	const chunk = row("steady chunk used after GC"), slot = row("steady slot used after GC");
	const growth = [row("chunk growth per publish"), row("chunk growth per restart"), row("slot growth per restart")];
	const survived = row("restarts survived");
	const first = row("launch to first publish");
	const worst = row("restart to next publish, max");
	const bound = FW_CONFIG.backoffMax + (handshake ?? 0);
	return [
		{ target: "steady heap <= 1.25x baseline", met: (chunk.ratio ?? 99) <= 1.25 && (slot.ratio ?? 99) <= 1.25, detail: `chunk ${chunk.ratio}x, slot ${slot.ratio}x` },
		// "No growth": within one 1 KB chunk step / 64 slots over the whole run.
		{ target: "no growth across publishes and restarts", met: survived.firmware === RESTARTS && (growth[0].firmware ?? 0) * 1000 <= 1024 && (growth[1].firmware ?? 0) * RESTARTS <= 1024 && (growth[2].firmware ?? 0) * RESTARTS <= 64 * 32, detail: `firmware ${growth[0].firmware} B/publish, ${growth[1].firmware} B chunk and ${growth[2].firmware} B slot per restart (no growth = under one 1 KB chunk step / 64 slots in total); survived ${survived.firmware}/${RESTARTS} restarts` },
		{ target: "first publish <= 1.1x baseline", met: (first.ratio ?? 99) <= 1.1, detail: `${first.firmware} ms vs ${first.baseline} ms (${first.ratio}x)` },
		{ target: "reconnect within backoff bound + one handshake", met: survived.firmware === RESTARTS && (worst.firmware ?? Infinity) <= bound, detail: `${survived.firmware}/${RESTARTS} restarts survived; worst ${worst.firmware} ms vs ${FW_CONFIG.backoffMax} ms + ${handshake} ms handshake = ${bound} ms` },
	];
}

// ---------------------------------------------------------------------------------

const args = process.argv.slice(2);
const fleetAt = args.indexOf("--fleet");
if (fleetAt >= 0) {
	const count = Number(args[fleetAt + 1] ?? 500);
	await runFleet(Number.isInteger(count) && count > 0 ? count : 500);
}
else {
	const { home, reason } = moddableHome();
	if (!home)
		console.log(`bench: ${reason}; nothing measured (set MODDABLE to a Moddable SDK with its Linux tools built).`);
	else
		await runSimulatorBench(home);
}
process.exit(0);
