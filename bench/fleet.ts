/*
 * Fleet runs (npm run bench -- --fleet 2000): N instances of the core (createNodeDevice,
 * Node TLS transport) against one loopback mosquitto, each fleet connected and stable
 * first (the core resets its backoff after 30 s online).
 * - Restart: the broker is restarted (down DOWNTIME ms) and connection attempts and
 *   successful connects are counted per second. Done twice: with full jitter, then with
 *   jitter off (every device waits the backoff cap itself), each with a fresh broker
 *   and fleet.
 * - Refusal: the broker refuses every connection for REFUSAL ms (stopped: connection
 *   refused), with the firmware's default backoff: the attempts each device makes in
 *   that minute (EMQX bans a client above 15 per minute) and how the reconnects spread
 *   once the broker is back.
 * - Release: fleet-release.ts (rollout 10 % then 100 %, downloads in flight with and
 *   without the release window); `releaseOnly` runs only that.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type Broker } from "../tools/broker/broker";
import { createNodeDevice, type NodeDevice } from "../node/device";
import { LineLog } from "../node/ports";
import { generatePki } from "../tools/pki";
import { delay } from "../tools/harness/wait";
import { median } from "./app";
import { runReleaseFleet } from "./fleet-release";

// A reading every 30 s: the reconnect behaviour does not depend on it, and 2,000 devices
// publishing every 5 s kept two shared cores busy on their own.
const CONFIG = { mqttHost: "localhost", interval: 30_000, backoffMin: 500, backoffMax: 8_000, keepalive: 60, connectTimeout: 10_000, queueSize: 10 };
const DEFAULT_BACKOFF = { backoffMin: 1_000, backoffMax: 60_000 };	// the firmware's defaults (manifest.json config)
const DOWNTIME = 5_000;		// ms the broker stays down in the restart run
const REFUSAL = 60_000;		// ms the broker refuses every attempt in the refusal run
const EMQX_LIMIT = 15;		// connects per client per minute above which EMQX's flapping detection bans it
const WATCH = 40;			// seconds counted from the restart
const STABLE = 31_000;		// ms online before the restart: the core resets its backoff after 30 s
const READY = 600_000;		// ms a restarted broker may take to answer a TLS probe amid the fleet's dials (it answers once they are served)

/** A LineLog that keeps nothing and hands each line on (thousands of devices, long runs). */
class CountingLog extends LineLog {
	constructor(onLine: (line: string) => void) {
		super({ print: false });
		this.lines.push = (...lines: string[]) => {
			for (const line of lines)
				onLine(line);
			return 0;
		};
	}
}

interface Fleet {
	broker: Broker;
	devices: NodeDevice[];
	online(): number;
	stop(): Promise<void>;
}

/** Starts `count` devices against a fresh broker; `onMove(device, to)` sees every connection transition. */
async function startFleet(count: number, pkiDir: string, config: Record<string, unknown>, jitter: boolean, onMove: (device: number, to: string) => void): Promise<Fleet> {
	const broker = await startBroker({ engine: "mosquitto", pkiDir });
	const devices: NodeDevice[] = [];
	let online = 0;
	const fleet: Fleet = {
		broker, devices, online: () => online,
		async stop() {
			for (const { device } of devices)
				try { device.stop(); } catch { /* keep stopping */ }
			await delay(500);
			await broker.stop();
		},
	};
	try {
		for (let i = 0; i < count; i++) {
			const log = new CountingLog(line => {
				const move = /^mqtt: (\S+) -> (\S+)/.exec(line);
				if (!move)
					return;
				online += (move[2] === "online" ? 1 : 0) - (move[1] === "online" ? 1 : 0);
				onMove(i, move[2]);
			});
			const device = createNodeDevice({ config: { ...config, mqttPort: broker.port, deviceId: `fleet-${i}` }, certsDir: pkiDir, log, jitter });
			devices.push(device);
			device.device.start();
			if (i % 50 === 49)
				await delay(200);	// 50 handshakes at a time for the first connect
		}
		const end = Date.now() + 120_000;
		while (online < count && Date.now() < end)
			await delay(100);
		return fleet;
	}
	catch (error) {
		await fleet.stop();
		throw error;
	}
}

interface Second { attempts: number; connects: number; online: number }

async function runRestart(count: number, jitter: boolean, pkiDir: string): Promise<{ seconds: Second[]; allOnlineAfter: number | null; peakAttempts: number }> {
	let origin = 0;
	const seconds: Second[] = Array.from({ length: WATCH }, () => ({ attempts: 0, connects: 0, online: 0 }));
	const fleet = await startFleet(count, pkiDir, CONFIG, jitter, (_, to) => {
		const second = origin ? seconds[Math.floor((Date.now() - origin) / 1000)] : undefined;
		if (second && to === "connecting")
			second.attempts++;
		if (second && to === "online")
			second.connects++;
	});
	try {
		console.log(`  ${jitter ? "jitter   " : "no jitter"}: ${fleet.online()}/${count} online; waiting ${STABLE / 1000} s so every backoff window resets, then restarting the broker (down ${DOWNTIME} ms)`);
		await delay(STABLE);
		origin = Date.now();
		// Counted while it restarts: the readiness probe may wait long amid the dials.
		const restarted = fleet.broker.restart(DOWNTIME, READY);
		let allOnlineAfter: number | null = null;
		for (let s = 0; s < WATCH; s++) {
			const next = origin + (s + 1) * 1000;
			while (Date.now() < next) {
				if (allOnlineAfter === null && fleet.online() >= count && Date.now() - origin > DOWNTIME)
					allOnlineAfter = Date.now() - origin;
				await delay(10);
			}
			seconds[s].online = fleet.online();
		}
		await restarted;
		return { seconds, allOnlineAfter, peakAttempts: Math.max(...seconds.map(s => s.attempts)) };
	}
	finally {
		await fleet.stop();
	}
}

interface Refusal { attempts: number[]; back: number[]; perFive: number[]; refusedFor: number }

async function runRefusal(count: number, pkiDir: string): Promise<Refusal> {
	// From the stop on, every dial counts until the broker's first accepted connect (its
	// return: it refused everything before); each device's first connect is its return.
	let stoppedAt = 0;
	let backAt = 0;
	const attempts = new Array<number>(count).fill(0);
	const online = new Array<number | undefined>(count).fill(undefined);
	const fleet = await startFleet(count, pkiDir, { ...CONFIG, ...DEFAULT_BACKOFF }, true, (i, to) => {
		if (!stoppedAt)
			return;
		if (to === "connecting" && !backAt)
			attempts[i]++;
		if (to === "online" && online[i] === undefined) {
			backAt ||= Date.now();
			online[i] = Date.now();
		}
	});
	try {
		console.log(`  refusal: ${fleet.online()}/${count} online; waiting ${STABLE / 1000} s, then the broker refuses every connection for ${REFUSAL / 1000} s`);
		await delay(STABLE);
		stoppedAt = Date.now();
		await fleet.broker.restart(REFUSAL, READY);	// stopped: every dial is refused
		const end = Date.now() + DEFAULT_BACKOFF.backoffMax + 30_000;
		while (fleet.online() < count && Date.now() < end)
			await delay(100);
		const back = online.filter((at): at is number => at !== undefined).map(at => at - backAt);
		const perFive = new Array<number>(Math.ceil((Math.max(0, ...back) + 1) / 5_000)).fill(0);
		for (const ms of back)
			perFive[Math.floor(ms / 5_000)]++;
		return { attempts, back, perFive, refusedFor: backAt - stoppedAt };
	}
	finally {
		await fleet.stop();
	}
}

function percentile(values: number[], p: number): number | null {
	if (!values.length)
		return null;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

export async function runFleet(count: number, releaseOnly = false): Promise<void> {
	const pkiDir = mkdtempSync(join(tmpdir(), "smn-fleet-pki-"));
	try {
		generatePki(pkiDir);
		if (releaseOnly)
			return await runReleaseFleet(count, pkiDir);
		console.log(`fleet: ${count} cores on Node (backoff ${CONFIG.backoffMin}..${CONFIG.backoffMax} ms), one loopback mosquitto, restart at t=0 with ${DOWNTIME} ms down`);
		const withJitter = await runRestart(count, true, pkiDir);
		const without = await runRestart(count, false, pkiDir);
		console.log("\nconnection attempts (TLS dials) and successful connects per second after the broker restart; broker back at t~" + (DOWNTIME / 1000) + " s");
		console.log("   t |   jitter: attempts connects online | no jitter: attempts connects online");
		const bar = (n: number) => "#".repeat(Math.ceil(n / Math.max(1, count / 50)));
		for (let s = 0; s < WATCH; s++) {
			const a = withJitter.seconds[s], b = without.seconds[s];
			if (s > DOWNTIME / 1000 && a.online === count && b.online === count && !a.attempts && !b.attempts)
				break;	// both fleets back and quiet
			console.log(`${String(s).padStart(4)} | ${String(a.attempts).padStart(17)} ${String(a.connects).padStart(8)} ${String(a.online).padStart(6)} | ${String(b.attempts).padStart(18)} ${String(b.connects).padStart(8)} ${String(b.online).padStart(6)}   ${bar(a.attempts).padEnd(20)} ${bar(b.attempts)}`);
		}
		console.log(`\npeak attempts in one second: jitter ${withJitter.peakAttempts}, no jitter ${without.peakAttempts}`);
		console.log(`all ${count} online again after: jitter ${withJitter.allOnlineAfter ?? "> " + WATCH * 1000} ms, no jitter ${without.allOnlineAfter ?? "> " + WATCH * 1000} ms`);

		console.log(`\nrefusal: ${count} cores with the firmware's default backoff (${DEFAULT_BACKOFF.backoffMin}..${DEFAULT_BACKOFF.backoffMax} ms, full jitter), broker refusing every connection for ${REFUSAL / 1000} s`);
		const refusal = await runRefusal(count, pkiDir);
		const { attempts, back } = refusal;
		console.log(`refused for ${refusal.refusedFor} ms (broker stopped to its first accepted connect)`);
		console.log(`connect attempts per device in that time: median ${median(attempts)}, p90 ${percentile(attempts, 0.9)}, max ${Math.max(...attempts)}; devices above EMQX's ${EMQX_LIMIT}/min: ${attempts.filter(n => n > EMQX_LIMIT).length} of ${count}`);
		console.log(`after the broker returned: ${back.length}/${count} online; median ${median(back)} ms, p90 ${percentile(back, 0.9)} ms, last ${Math.max(...back)} ms`);
		console.log("reconnects per 5 s after the broker returned:");
		for (let i = 0; i < refusal.perFive.length; i++)
			console.log(`${String(i * 5).padStart(4)}..${String(i * 5 + 5).padEnd(4)} s ${String(refusal.perFive[i]).padStart(6)}  ${bar(refusal.perFive[i])}`);
		await runReleaseFleet(count, pkiDir);
	}
	finally {
		rmSync(pkiDir, { recursive: true, force: true });
	}
}
