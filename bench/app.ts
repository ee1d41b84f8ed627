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
export interface Peaks { chunkUsed: number; slotUsed: number; chunkHeap: number; slotHeap: number; stack: number }
/** One connect as the app traces it: dial (connecting), TLS done (firmware only), MQTT ready. */
export interface Handshake { start: number; tls?: number; tlsResult?: string; end: number }

// Connect start and end in the firmware's ("mqtt: x -> connecting") and the baseline's trace.
const CONNECTING = /^mqtt: \S+ -> connecting$|^baseline: connecting$/;
const ONLINE = /^mqtt: connecting -> online$|^baseline: online$/;
const TLS = /^tls: (resumed|full handshake) /;

export class App {
	readonly samples: Sample[] = [];
	readonly peaks: Peaks = { chunkUsed: 0, slotUsed: 0, chunkHeap: 0, slotHeap: 0, stack: 0 };
	readonly instruments: ({ at: number } & Peaks)[] = [];	// the 1/s instruments lines
	readonly handshakes: Handshake[] = [];
	#dialing: { start: number; tls?: number; tlsResult?: string } | undefined;
	readonly transitions: { at: number; from: string; to: string }[] = [];
	readonly publishes: number[] = [];	// receipt times at the subscriber
	readonly lines: { at: number; text: string }[] = [];	// every trace line, with its arrival time
	launchedAt = 0;
	/** When the subscriber got its first telemetry reading. */
	firstReading: number | undefined;
	simulator!: Simulator;
	/** Set when mcsim ended by itself or its VM aborted (a crash): what the trace said last. */
	ended: string | undefined;
	stopping = false;
	#columns: string[] = [];

	/** host:port of the broker as the app dials it: "tls:" lines for other servers are not its connection's. */
	broker = "";

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
		if (line.startsWith("XS abort"))	// the VM is gone, though mcsim may stay up
			this.ended ??= line;
		const probe = /^bench: t=(\d+) chunk=(\d+) slot=(\d+) stack=(\d+) gc=(\d+)/.exec(line);
		if (probe)
			this.samples.push({ at, chunk: +probe[2], slot: +probe[3], stack: +probe[4], gc: +probe[5] });
		const move = /mqtt: (\S+) -> (\S+)/.exec(line);
		if (move)
			this.transitions.push({ at, from: move[1], to: move[2] });
		if (CONNECTING.test(line))
			this.#dialing = { start: at };
		const tls = TLS.exec(line);
		if (tls && this.#dialing && this.#dialing.tls === undefined && line.endsWith(` ${this.broker}`))
			Object.assign(this.#dialing, { tls: at, tlsResult: tls[1] });
		if (ONLINE.test(line) && this.#dialing) {
			this.handshakes.push({ ...this.#dialing, end: at });
			this.#dialing = undefined;
		}
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
		const sample = { at: Date.now(), chunkUsed: get("Chunk used"), slotUsed: get("Slot used"), chunkHeap: get("Chunk available"), slotHeap: get("Slot available"), stack: get("Stack used") };
		this.instruments.push(sample);
		maxInto(this.peaks, sample);
	}

	/** The largest instruments figures sampled in [from, to]. */
	peaksBetween(from: number, to: number): Peaks {
		const peaks: Peaks = { chunkUsed: 0, slotUsed: 0, chunkHeap: 0, slotHeap: 0, stack: 0 };
		for (const sample of this.instruments)
			if (sample.at >= from && sample.at <= to)
				maxInto(peaks, sample);
		return peaks;
	}

	/** Connects that began in [from, to]. */
	handshakesBetween(from: number, to: number): Handshake[] {
		return this.handshakes.filter(handshake => handshake.start >= from && handshake.start <= to);
	}

	/** Median of the probe samples (taken right after a forced GC) from `since` on. */
	async heapAfterGc(count = 3): Promise<{ chunk: number; slot: number; samples: number }> {
		const since = Date.now();
		const fresh = await this.waitFor(`${count} probe samples`, () => {
			const list = this.samples.filter(sample => sample.at >= since);
			return list.length >= count && list;
		}, count * 2_000 + 10_000);
		return { chunk: median(fresh.map(s => s.chunk)), slot: median(fresh.map(s => s.slot)), samples: fresh.length };
	}

	publishedAfter(time: number): number | undefined {
		return this.publishes.find(at => at > time);
	}

	/** The app's last trace lines, for saying what it printed before it failed. */
	lastLines(count = 20): string {
		return this.lines.slice(-count).map(({ at, text }) => `  [${this.name} ${new Date(at).toISOString().slice(11, 23)}] ${text}`).join("\n");
	}

	/** An error naming this side, what was awaited and what it printed last. */
	failure(what: string): Error {
		const how = this.ended ? `its simulator ended (${this.ended})` : "it is still running";
		return new Error(`bench: the ${this.name} failed: ${what}; ${how}. Its last trace lines:\n${this.lastLines()}`);
	}

	/** waitFor() that ends at once, naming this side, when its simulator ends, and names it on a timeout. */
	async waitFor<T>(what: string, condition: () => T | undefined | null | false, timeout: number): Promise<T> {
		const value = await waitFor(what, () => condition() || (this.ended ? ENDED : undefined), timeout)
			.catch(error => { throw error instanceof Error && error.message.startsWith("timed out") ? this.failure(`timed out after ${timeout} ms waiting for ${what}`) : error; });
		if (value === ENDED)
			throw this.failure(`waiting for ${what}`);
		return value as T;
	}
}

const ENDED = Symbol("ended");

function maxInto(peaks: Peaks, sample: Peaks): void {
	for (const key of ["chunkUsed", "slotUsed", "chunkHeap", "slotHeap", "stack"] as const)
		peaks[key] = Math.max(peaks[key], sample[key]);
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

export async function subscribe(pkiDir: string, port: number, topics: string[], onMessage: (topic: string, payload: string) => void): Promise<MqttClient> {
	const client = mqtt.connect({
		protocol: "mqtts", host: "localhost", port, ca: readFileSync(join(pkiDir, "ca.pem")),
		protocolVersion: 4, clientId: "bench-subscriber", clean: false, reconnectPeriod: 100, connectTimeout: 10_000,
	});
	client.on("error", () => { /* reconnects */ });
	client.on("message", (topic, payload) => onMessage(topic, payload.toString("utf8")));
	await new Promise<void>((resolve, reject) => {
		client.once("connect", () => resolve());
		client.once("error", reject);
	});
	await client.subscribeAsync(topics, { qos: 1 });
	return client;
}
