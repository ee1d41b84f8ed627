/*
 * Device: the application, composed from the core's parts and the injected ports.
 *
 * - start() counts the boot (kept in Storage), starts sampling every `interval` ms and
 *   starts the connection; stop() publishes the retained offline status, disconnects
 *   cleanly and stops sampling.
 * - On every ready session: retained birth on status, subscribe to the command and sync
 *   topics (a fresh clean session each time, so always resubscribe), resend readings.
 * - The retained Last Will `{"online":false}` is registered with every CONNECT.
 * - Messages on the command topic go to `onCommand` (the command table plugs in there).
 */

import type { Clock, Log, Network, Sensor, Session, Storage, Timers, TimerHandle, Transport } from "./ports";
import type { Config } from "./config";
import { Backoff } from "./backoff";
import { Connection, Reason } from "./connection";
import { Telemetry } from "./telemetry";
import { makeTopics, type Topics } from "./topics";
import { FIRMWARE_VERSION } from "./version";

export interface DeviceOptions {
	config: Config;
	transport: Transport;
	network: Network;
	clock: Clock;
	timers: Timers;
	log: Log;
	storage: Storage;
	sensor: Sensor;
	random: () => number;
	/** Why this boot happened, for the birth message ("power-on", "restart", "ota"). */
	bootReason?: string;
}

export type CommandHandler = (payload: string, session: Session) => void;

const OFFLINE = JSON.stringify({ online: false });

export class Device {
	readonly topics: Topics;
	readonly boot: number;
	readonly connection: Connection;
	readonly telemetry: Telemetry;
	onCommand: CommandHandler | undefined;
	/** Extra work on each ready session (for example publishing pin state). */
	onOnline: ((session: Session) => void) | undefined;
	#sampler: TimerHandle | undefined;
	#interval: number;
	readonly #o: DeviceOptions;

	constructor(options: DeviceOptions) {
		this.#o = options;
		const { config } = options;
		this.#interval = config.interval;
		this.topics = makeTopics(config.topicPrefix, config.deviceId);
		this.boot = nextBoot(options.storage);
		this.telemetry = new Telemetry({
			sensor: options.sensor,
			clock: options.clock,
			timers: options.timers,
			log: options.log,
			boot: this.boot,
			capacity: config.queueSize,
			telemetryTopic: this.topics.telemetry,
			syncTopic: this.topics.sync,
			onSendFailed: detail => this.connection.fail(detail),
		});
		this.connection = new Connection({
			transport: options.transport,
			network: options.network,
			clock: options.clock,
			timers: options.timers,
			log: options.log,
			backoff: new Backoff({ min: config.backoffMin, max: config.backoffMax, random: options.random }),
			connectTimeout: config.connectTimeout,
			session: {
				clientId: config.deviceId,
				keepalive: config.keepalive,
				will: { topic: this.topics.status, payload: OFFLINE, retain: true },
				user: config.mqttUser || undefined,
				password: config.mqttPassword || undefined,
			},
			listener: {
				onOnline: session => this.#online(session),
				onOffline: reason => this.#offline(reason),
				onMessage: (topic, payload) => this.#message(topic, payload),
			},
		});
	}

	get interval(): number { return this.#interval; }

	start(): void {
		const { config, log } = this.#o;
		log(`device: ${config.deviceId} fw ${FIRMWARE_VERSION} boot ${this.boot}, broker ${config.mqttHost}:${config.mqttPort}, every ${this.#interval} ms`);
		this.#startSampling();
		this.connection.start();
	}

	stop(): void {
		this.#o.timers.clear(this.#sampler);
		this.#sampler = undefined;
		this.telemetry.detach();
		this.connection.stop(session => session.publish(this.topics.status, OFFLINE, true));
	}

	/** Changes the sampling period; the next reading comes one new period from now. */
	setInterval(ms: number): void {
		this.#interval = ms;
		if (this.#sampler !== undefined)
			this.#startSampling();
	}

	#startSampling(): void {
		const { timers } = this.#o;
		timers.clear(this.#sampler);
		this.#sampler = timers.repeat(() => this.telemetry.sample(), this.#interval);
	}

	#online(session: Session): void {
		const birth = JSON.stringify({ online: true, fw: FIRMWARE_VERSION, boot: this.boot, reason: this.#o.bootReason ?? "power-on" });
		try {
			// The socket is empty right after CONNACK: a full one here means it is broken.
			if (!session.publish(this.topics.status, birth, true))
				throw new Error("socket full");
			session.subscribe(this.topics.command);
			session.subscribe(this.topics.sync);
			this.onOnline?.(session);
		}
		catch (error) {
			this.connection.fail(`birth: ${error}`);
			return;
		}
		this.telemetry.attach(session);
	}

	#offline(reason: Reason): void {
		this.telemetry.detach();
		this.#o.log(`device: offline (${reason}), ${this.telemetry.queued} readings kept`);
	}

	#message(topic: string, payload: string): void {
		if (topic === this.topics.sync)
			this.telemetry.confirm(payload);
		else if (topic === this.topics.command) {
			const session = this.connection.session;
			if (session && this.onCommand)
				this.onCommand(payload, session);
		}
	}
}

/** Increments and persists the boot counter; a damaged value restarts it at 1. */
function nextBoot(storage: Storage): number {
	const stored = storage.get("boot");
	const previous = typeof stored === "number" && Number.isInteger(stored) && stored >= 0 ? stored : 0;
	const boot = previous + 1;
	storage.set("boot", boot);
	return boot;
}
