/*
 * Watcher: a test-side MQTT subscriber over TLS that records everything it receives.
 *
 * - Trusts the test PKI's CA and checks the name (set `insecure` to watch a broker
 *   whose certificate the device is meant to refuse).
 * - `persistent` uses a fixed client id with clean: false and lets mqtt.js reconnect,
 *   so with mosquitto's persistence and queued QoS 0 nothing is missed across a
 *   broker restart. Subscriptions are QoS 1.
 * - publish() sends as an operator would (QoS 0), for commands.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { waitFor } from "./wait";

export interface Received {
	topic: string;
	payload: string;
	retain: boolean;
}

export interface WatcherOptions {
	pkiDir: string;
	port: number;
	topics: string[];
	clientId?: string;
	persistent?: boolean;
	insecure?: boolean;
}

export interface Reading {
	boot: number;
	seq: number;
	ts: number | null;
	values: Record<string, number>;
}

export class Watcher {
	readonly received: Received[] = [];
	readonly #client: MqttClient;

	private constructor(client: MqttClient) {
		this.#client = client;
		client.on("message", (topic, payload, packet) => {
			this.received.push({ topic, payload: payload.toString("utf8"), retain: packet.retain });
		});
	}

	static async connect(options: WatcherOptions): Promise<Watcher> {
		const client = mqtt.connect({
			protocol: "mqtts",
			host: "localhost",
			port: options.port,
			ca: readFileSync(join(options.pkiDir, "ca.pem")),
			rejectUnauthorized: !options.insecure,
			protocolVersion: 4,
			clientId: options.clientId ?? `watcher-${Math.random().toString(16).slice(2, 10)}`,
			clean: !options.persistent,
			reconnectPeriod: options.persistent ? 250 : 0,
			connectTimeout: 10_000,
		});
		client.on("error", () => { /* reconnects (persistent) or the test times out */ });
		const watcher = new Watcher(client);
		await new Promise<void>((resolve, reject) => {
			client.once("connect", () => resolve());
			client.once("error", reject);
		});
		await client.subscribeAsync(options.topics, { qos: 1 });
		return watcher;
	}

	get connected(): boolean {
		return this.#client.connected;
	}

	on(topic: string): Received[] {
		return this.received.filter(message => message.topic === topic);
	}

	/** Waits for the first message on `topic` matching `match` (default: any). */
	waitFor(topic: string, match: (payload: unknown, message: Received) => boolean = () => true, timeout = 15_000): Promise<Received> {
		return waitFor(`a matching message on ${topic}`, () => this.on(topic).find(message => match(parse(message.payload), message)), timeout);
	}

	/** Publishes at QoS 0 (as an operator's client would); resolves once it is written. */
	async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
		await this.#client.publishAsync(topic, payload, { qos: 0, retain });
	}

	/** Readings on a telemetry topic, parsed. */
	readings(topic: string): Reading[] {
		return this.on(topic).map(message => parse(message.payload) as Reading);
	}

	async close(): Promise<void> {
		await this.#client.endAsync(true);
	}
}

export function parse(payload: string): unknown {
	try {
		return JSON.parse(payload);
	}
	catch {
		return payload;
	}
}

/** Sorted distinct seqs of one boot, de-duplicated by (boot, seq) as consumers must. */
export function distinctSeqs(readings: Reading[], boot: number): number[] {
	return [...new Set(readings.filter(reading => reading.boot === boot).map(reading => reading.seq))].sort((a, b) => a - b);
}

/** The seqs missing from 1..last. */
export function gaps(seqs: number[]): number[] {
	const have = new Set(seqs);
	const last = seqs.length ? seqs[seqs.length - 1] : 0;
	const missing: number[] = [];
	for (let seq = 1; seq <= last; seq++)
		if (!have.has(seq))
			missing.push(seq);
	return missing;
}
