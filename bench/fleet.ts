/*
 * Fleet run (npm run bench -- --fleet 500): N instances of the core (createNodeDevice,
 * Node TLS transport) against one loopback mosquitto, connected and stable, then the
 * broker is restarted (down DOWNTIME ms) and connection attempts and successful
 * connects are counted per second. Done twice: with full jitter, then with jitter off
 * (every device waits the backoff cap itself), each with a fresh broker and fleet.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker } from "../tools/broker/broker";
import { createNodeDevice, type NodeDevice } from "../node/device";
import { LineLog } from "../node/ports";
import { generatePki } from "../tools/pki";
import { delay } from "../tools/harness/wait";

const CONFIG = { mqttHost: "localhost", interval: 5_000, backoffMin: 500, backoffMax: 8_000, keepalive: 60, connectTimeout: 10_000, queueSize: 10 };
const DOWNTIME = 5_000;		// ms the broker stays down
const WATCH = 40;			// seconds counted from the restart
const STABLE = 31_000;		// ms online before the restart: the core resets its backoff after 30 s


/** A LineLog that keeps nothing and hands each line on (500 devices, long runs). */
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

interface Second { attempts: number; connects: number; online: number }

async function runOnce(count: number, jitter: boolean, pkiDir: string): Promise<{ seconds: Second[]; allOnlineAfter: number | null; peakAttempts: number }> {
	const broker = await startBroker({ engine: "mosquitto", pkiDir });
	const devices: NodeDevice[] = [];
	let online = 0;
	let origin = 0;
	const seconds: Second[] = Array.from({ length: WATCH }, () => ({ attempts: 0, connects: 0, online: 0 }));
	const bucket = () => origin ? seconds[Math.floor((Date.now() - origin) / 1000)] : undefined;
	const onLine = (line: string) => {
		const move = /^mqtt: (\S+) -> (\S+)/.exec(line);
		if (!move)
			return;
		if (move[2] === "connecting") {
			const b = bucket();
			if (b)
				b.attempts++;
		}
		if (move[2] === "online") {
			online++;
			const b = bucket();
			if (b)
				b.connects++;
		}
		if (move[1] === "online")
			online--;
	};
	try {
		for (let i = 0; i < count; i++) {
			const device = createNodeDevice({
				config: { ...CONFIG, mqttPort: broker.port, deviceId: `fleet-${jitter ? "j" : "n"}-${i}` },
				certsDir: pkiDir, log: new CountingLog(onLine), jitter,
			});
			devices.push(device);
			device.device.start();
			if (i % 50 === 49)
				await delay(200);	// 50 handshakes at a time for the first connect
		}
		const end = Date.now() + 60_000;
		while (online < count && Date.now() < end)
			await delay(100);
		console.log(`  ${jitter ? "jitter   " : "no jitter"}: ${online}/${count} online; waiting ${STABLE / 1000} s so every backoff window resets, then restarting the broker (down ${DOWNTIME} ms)`);
		await delay(STABLE);
		origin = Date.now();
		await broker.restart(DOWNTIME);
		let allOnlineAfter: number | null = null;
		for (let s = 0; s < WATCH; s++) {
			const next = origin + (s + 1) * 1000;
			while (Date.now() < next) {
				if (allOnlineAfter === null && online >= count && Date.now() - origin > DOWNTIME)
					allOnlineAfter = Date.now() - origin;
				await delay(10);
			}
			seconds[s].online = online;
		}
		return { seconds, allOnlineAfter, peakAttempts: Math.max(...seconds.map(s => s.attempts)) };
	}
	finally {
		for (const { device } of devices)
			try { device.stop(); } catch { /* keep stopping */ }
		await delay(500);
		await broker.stop();
	}
}

export async function runFleet(count: number): Promise<void> {
	const pkiDir = mkdtempSync(join(tmpdir(), "smn-fleet-pki-"));
	try {
		generatePki(pkiDir);
		console.log(`fleet: ${count} cores on Node (backoff ${CONFIG.backoffMin}..${CONFIG.backoffMax} ms), one loopback mosquitto, restart at t=0 with ${DOWNTIME} ms down`);
		const withJitter = await runOnce(count, true, pkiDir);
		const without = await runOnce(count, false, pkiDir);
		console.log("\nconnection attempts (TLS dials) and successful connects per second after the broker restart; broker back at t~" + (DOWNTIME / 1000) + " s");
		console.log("   t |   jitter: attempts connects online | no jitter: attempts connects online");
		const bar = (n: number) => "#".repeat(Math.ceil(n / Math.max(1, count / 50)));
		for (let s = 0; s < WATCH; s++) {
			const a = withJitter.seconds[s], b = without.seconds[s];
			console.log(`${String(s).padStart(4)} | ${String(a.attempts).padStart(17)} ${String(a.connects).padStart(8)} ${String(a.online).padStart(6)} | ${String(b.attempts).padStart(18)} ${String(b.connects).padStart(8)} ${String(b.online).padStart(6)}   ${bar(a.attempts).padEnd(20)} ${bar(b.attempts)}`);
		}
		console.log(`\npeak attempts in one second: jitter ${withJitter.peakAttempts}, no jitter ${without.peakAttempts}`);
		console.log(`all ${count} online again after: jitter ${withJitter.allOnlineAfter ?? "> " + WATCH * 1000} ms, no jitter ${without.allOnlineAfter ?? "> " + WATCH * 1000} ms`);
	}
	finally {
		rmSync(pkiDir, { recursive: true, force: true });
	}
}
