/*
 * Fleet release runs (part of npm run bench -- --fleet N; alone: --fleet N --release-only):
 * N instances of the core on Node against one loopback mosquitto and one HTTPS image
 * server that counts the downloads in flight. The release (signed with the run's key)
 * is published retained at rollout 10 %, and once that stage has installed, at 100 %.
 * Done twice with a fresh broker and fleet: releaseWindow 0 (every device fetches the
 * moment it reads the release) and releaseWindow WINDOW.
 * - Reported per stage: devices in it, peak concurrent downloads, and the time from
 *   publishing to the last device's install (the image verified and made bootable:
 *   Ota reaches "rebooting"; the device then stops, as a board would reboot).
 * - The server sends IMAGE bytes in CHUNKS pieces over about SEND ms, like a server
 *   with limited bandwidth per client: concurrency is what a real server would carry.
 * - Scale: all devices, their downloads and the image server live in this process
 *   (about 3 descriptors per device: checked against `ulimit -n` first) and one
 *   mosquitto; about 2 x count loopback connections per run, well inside the
 *   ephemeral port range.
 */

import { execFileSync } from "node:child_process";
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { createNodeDevice, NODE_MODEL, type NodeDevice } from "../node/device";
import { startBroker } from "../tools/broker/broker";
import { LineLog } from "../node/ports";
import { delay } from "../tools/harness/wait";
import { imageFields, signUpdate } from "../tools/ota-sign";
import { bucketOf, releaseTopic } from "../modules/app/updates/release";

const CONFIG = { mqttHost: "localhost", interval: 60_000, backoffMin: 1_000, backoffMax: 30_000, keepalive: 120, connectTimeout: 30_000, queueSize: 10 };
export const WINDOW = 30_000;	// ms: the bench's releaseWindow (the firmware's default is 600000)
const IMAGE = 16 * 1024;		// bytes
const CHUNKS = 8;
const SEND = 800;				// ms to send one image
const STAGE_LIMIT = 300_000;	// ms a stage may take before the run gives up on it

interface ImageCounter { url: string; inFlight(): number; peak(): number; resetPeak(): void; served(): number; close(): Promise<void> }

async function startImageCounter(pkiDir: string, body: Buffer): Promise<ImageCounter> {
	let inFlight = 0, peak = 0, served = 0;
	const server = createServer({ key: readFileSync(join(pkiDir, "server.key")), cert: readFileSync(join(pkiDir, "server-chain.pem")), minVersion: "TLSv1.2" }, (request, response) => {
		inFlight++;
		peak = Math.max(peak, inFlight);
		let done = false;
		const finish = () => { if (!done) { done = true; inFlight--; } };
		response.on("close", finish);
		response.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
		const size = Math.ceil(body.length / CHUNKS);
		let at = 0;
		const next = () => {
			if (response.destroyed)
				return finish();
			response.write(body.subarray(at, at + size));
			at += size;
			if (at < body.length)
				setTimeout(next, SEND / CHUNKS);
			else {
				served++;
				response.end();
			}
		};
		next();
	});
	// With no window every device of a stage dials at once (1,800 at 100 % of 2,000):
	// Node's default backlog of 511 would drop the rest of the SYNs, and their retries
	// (1, 3, 7, 15 s...) would come near the update's 30 s stall timeout. 4096 is
	// net.core.somaxconn's default, which caps it.
	server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 });
	await new Promise(resolve => server.once("listening", resolve));
	const port = (server.address() as { port: number }).port;
	return {
		url: `https://localhost:${port}/fw.bin`, inFlight: () => inFlight, peak: () => peak, resetPeak: () => { peak = inFlight; }, served: () => served,
		close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve(undefined)); }),
	};
}

interface Stage { rollout: number; devices: number; installed: number; peak: number; ms: number | null }

async function runOnce(count: number, pkiDir: string, window: number): Promise<Stage[]> {
	const broker = await startBroker({ engine: "mosquitto", pkiDir });
	const body = Buffer.from(new Uint8Array(IMAGE).map((_, i) => (i * 31) & 0xff));
	const images = await startImageCounter(pkiDir, body);
	const devices: NodeDevice[] = [];
	let online = 0;
	const operator = await mqtt.connectAsync({ protocol: "mqtts", host: "localhost", port: broker.port, ca: readFileSync(join(pkiDir, "ca.pem")), protocolVersion: 4, reconnectPeriod: 0 });
	try {
		for (let i = 0; i < count; i++) {
			const log = new LineLog({ print: false });
			log.lines.push = (...lines: string[]) => {
				for (const line of lines) {
					const move = /^mqtt: (\S+) -> (\S+)/.exec(line);
					if (move)
						online += (move[2] === "online" ? 1 : 0) - (move[1] === "online" ? 1 : 0);
				}
				return 0;
			};
			const node = createNodeDevice({ config: { ...CONFIG, mqttPort: broker.port, deviceId: `fleet-${i}`, releaseWindow: window }, certsDir: pkiDir, log, otaCapacity: IMAGE * 2 });
			devices.push(node);
			node.device.start();
			if (i % 50 === 49)
				await delay(200);
		}
		const ready = Date.now() + 180_000;
		while (online < count && Date.now() < ready)
			await delay(100);
		console.log(`  window ${window} ms: ${online}/${count} online`);
		const fields = imageFields(body, NODE_MODEL, "1.1.0");
		const release = { ...fields, url: images.url, signature: signUpdate(readFileSync(join(pkiDir, "ota-signing.key")), fields) };
		const installed = (rollout: number) => devices.filter((d, i) => bucketOf(`fleet-${i}`) < rollout && d.device.ota?.installed === "1.1.0").length;
		const stages: Stage[] = [];
		for (const rollout of [10, 100]) {
			const members = devices.filter((_, i) => bucketOf(`fleet-${i}`) < rollout).length;
			images.resetPeak();
			const start = Date.now();
			await operator.publishAsync(releaseTopic("fleet", NODE_MODEL), JSON.stringify({ ...release, rollout }), { qos: 1, retain: true });
			let ms: number | null = null;
			while (Date.now() - start < STAGE_LIMIT + window) {
				if (installed(rollout) >= members) {
					ms = Date.now() - start;
					break;
				}
				await delay(50);
			}
			stages.push({ rollout, devices: members, installed: installed(rollout), peak: images.peak(), ms });
		}
		return stages;
	}
	finally {
		await operator.endAsync(true).catch(() => undefined);
		for (const { device } of devices)
			try { device.stop(); } catch { /* keep stopping */ }
		await delay(500);
		await images.close();
		await broker.stop();
	}
}

/**
 * The descriptors one run needs open in this process: per device its MQTT socket, its
 * download and the image server's end of it, plus some for the rest. Fails early and
 * says so when `ulimit -n` is lower (EMFILE mid-run looks like failed downloads).
 */
function checkDescriptors(count: number): void {
	const needed = 3 * count + 256;
	const limit = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
	if (limit !== "unlimited" && Number(limit) < needed)
		throw new Error(`bench: ${count} devices need about ${needed} open files in this process; ulimit -n is ${limit} (raise it: ulimit -n ${needed})`);
}

export async function runReleaseFleet(count: number, pkiDir: string): Promise<void> {
	checkDescriptors(count);
	console.log(`\nrelease: ${count} cores, one ${IMAGE / 1024} KB image served in ~${SEND} ms per download, rollout 10 % then 100 %; without and with a ${WINDOW / 1000} s releaseWindow`);
	const runs: [number, Stage[]][] = [];
	for (const window of [0, WINDOW])
		runs.push([window, await runOnce(count, pkiDir, window)]);
	console.log("  window  | stage | devices | installed | peak concurrent downloads | publish -> last install");
	for (const [window, stages] of runs)
		for (const stage of stages)
			console.log(`  ${String(window / 1000).padStart(4)} s  | ${String(stage.rollout).padStart(4)}% | ${String(stage.devices).padStart(7)} | ${String(stage.installed).padStart(9)} | ${String(stage.peak).padStart(25)} | ${stage.ms === null ? "not all within the limit" : `${(stage.ms / 1000).toFixed(1)} s`}`);
}
