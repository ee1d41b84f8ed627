/*
 * One app in the simulator for the benchmarks: its trace lines (timestamped on arrival),
 * its probe samples (heap right after a forced GC) and its instruments peaks; plus the
 * bench's persistent subscriber.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { startSimulator, type Simulator } from "../tools/sdk";

import { waitFor } from "../tools/harness/wait";

// ---------------------------------------------------------------------------------
// One app in the simulator: its trace, its probe samples and its instruments peaks.

interface Sample { at: number; chunk: number; slot: number; stack: number; gc: number }
interface Peaks { chunkUsed: number; slotUsed: number; chunkHeap: number; slotHeap: number; stack: number }

export class App {
	readonly samples: Sample[] = [];
	readonly peaks: Peaks = { chunkUsed: 0, slotUsed: 0, chunkHeap: 0, slotHeap: 0, stack: 0 };
	readonly transitions: { at: number; from: string; to: string }[] = [];
	readonly publishes: number[] = [];	// receipt times at the subscriber
	readonly lines: { at: number; text: string }[] = [];	// every trace line, with its arrival time
	launchedAt = 0;
	simulator!: Simulator;
	/** Set when mcsim ended by itself (a crash): the trace's last line says how. */
	ended: string | undefined;
	stopping = false;
	#columns: string[] = [];

	constructor(readonly name: string, readonly library: string) {}

	launch(seconds: number): void {
		this.launchedAt = Date.now();
		this.simulator = startSimulator(this.library, seconds, line => this.#line(line), line => this.#instruments(line));
		this.simulator.exited.then(code => {
			if (!this.stopping)
				this.ended ??= `exit ${code}: ${this.simulator.lines.at(-1) ?? ""}`;
		});
	}

	#line(line: string): void {
		const at = Date.now();
		this.lines.push({ at, text: line });
		const probe = /^bench: t=(\d+) chunk=(\d+) slot=(\d+) stack=(\d+) gc=(\d+)/.exec(line);
		if (probe)
			this.samples.push({ at, chunk: +probe[2], slot: +probe[3], stack: +probe[4], gc: +probe[5] });
		const move = /mqtt: (\S+) -> (\S+)/.exec(line);
		if (move)
			this.transitions.push({ at, from: move[1], to: move[2] });
		if (process.env.SMN_BENCH_LOGS === "1")
			console.log(`[${this.name}] ${line}`);
	}

	#instruments(line: string): void {
		if (line.startsWith("instruments key: ")) {
			this.#columns = line.slice("instruments key: ".length).split(",");
			return;
		}
		const values = line.slice("instruments: ".length).split(",").map(Number);
		const get = (name: string) => values[this.#columns.indexOf(name)] ?? 0;
		const peaks = this.peaks;
		peaks.chunkUsed = Math.max(peaks.chunkUsed, get("Chunk used"));
		peaks.slotUsed = Math.max(peaks.slotUsed, get("Slot used"));
		peaks.chunkHeap = Math.max(peaks.chunkHeap, get("Chunk available"));
		peaks.slotHeap = Math.max(peaks.slotHeap, get("Slot available"));
		peaks.stack = Math.max(peaks.stack, get("Stack used"));
	}

	/** Median of the probe samples (taken right after a forced GC) from `since` on. */
	async heapAfterGc(count = 3): Promise<{ chunk: number; slot: number; samples: number }> {
		const since = Date.now();
		const fresh = await waitFor(`${count} probe samples from ${this.name}`, () => {
			const list = this.samples.filter(sample => sample.at >= since);
			return list.length >= count && list;
		}, count * 2_000 + 10_000);
		return { chunk: median(fresh.map(s => s.chunk)), slot: median(fresh.map(s => s.slot)), samples: fresh.length };
	}

	publishedAfter(time: number): number | undefined {
		return this.publishes.find(at => at > time);
	}
}

export function median(values: number[]): number {
	if (!values.length)
		return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 ? sorted[middle] : Math.round((sorted[middle - 1] + sorted[middle]) / 2);
}

// ---------------------------------------------------------------------------------
// Subscriber: a persistent session (clean: false, QoS 1, reconnect every 100 ms), so
// mosquitto queues what arrives while the subscriber itself reconnects after a restart.

export async function subscribe(pkiDir: string, port: number, topics: string[], onMessage: (topic: string) => void): Promise<MqttClient> {
	const client = mqtt.connect({
		protocol: "mqtts", host: "localhost", port, ca: readFileSync(join(pkiDir, "ca.pem")),
		protocolVersion: 4, clientId: "bench-subscriber", clean: false, reconnectPeriod: 100, connectTimeout: 10_000,
	});
	client.on("error", () => { /* reconnects */ });
	client.on("message", topic => onMessage(topic));
	await new Promise<void>((resolve, reject) => {
		client.once("connect", () => resolve());
		client.once("error", reject);
	});
	await client.subscribeAsync(topics, { qos: 1 });
	return client;
}
