/*
 * Device: the application, composed from the core's parts and the injected ports.
 *
 * - start() counts the boot (kept in Storage), starts sampling every `interval` ms and
 *   starts the connection; stop() publishes the retained offline status, disconnects
 *   cleanly and stops sampling. A stopped device never acts again: stop() clears every
 *   timer it owns (a restart answered but not yet done, a pending reboot, pulses,
 *   retries) and a second stop() or a late restart does nothing.
 * - On every ready session: retained birth on status, subscribe to the command and sync
 *   topics (a fresh clean session each time, so always resubscribe), resend readings.
 * - The retained Last Will `{"online":false}` is registered with every CONNECT.
 * - Commands: messages on the command topic and plain payloads on `gpio/<name>/set`
 *   go to the CommandChannel (command table, retained-command gate, results, retained
 *   pin state); "cmd:" markers on the sync topic are the channel's, everything else
 *   there is Telemetry's.
 * - `config.haDiscovery`: HomeAssistant publishes discovery after the birth on every
 *   session and again when Home Assistant announces itself on `<haPrefix>/status`.
 * - `pins` and `system` are optional: without pins every gpio op is E_PIN and no state
 *   is published; without system, status has heap and rssi null and restart is
 *   E_UNAVAILABLE.
 * - The sampling period is the one the telemetry.interval command persisted
 *   (config/settings.ts) when valid, else `config.interval`.
 * - Over-the-air update (updates/updates.ts, over the UpdatePorts and `system`), built
 *   on the first ota.start; its progress has its own outbox on the ota topic; stop()
 *   abandons a running download.
 *   `firmwareVersion` (default FIRMWARE_VERSION) goes into birth and status; an update
 *   must be above it. Boot confirmation over `bootSlots` (trial.ts): confirmed after a
 *   healthy window, else rolled back; ota.start is E_BUSY while the image is on trial.
 *   Fleet releases (`config.model`): the release topic's messages go to `updates`.
 */

import type { Clock, Log, Network, Pins, Sensor, Session, Storage, System, Timers, TimerHandle, Transport } from "./ports";
import type { Config } from "./config/config";
import { Backoff } from "./connection/backoff";
import { CommandChannel } from "./commands/channel";
import type { ResultFields } from "./commands/result";
import { Commands } from "./commands/table";
import { nextBoot, storedInterval } from "./config/settings";
import { Connection, Reason } from "./connection/connection";
import { Gpio } from "./commands/gpio";
import { HomeAssistant } from "./home-assistant/home-assistant";
import type { Ota } from "./updates/ota";
import type { OtaTrial } from "./updates/trial";
import { Updates, type UpdatePorts } from "./updates/updates";
import { Telemetry } from "./connection/telemetry";
import { makeTopics, outputOfSetTopic, type Topics } from "./connection/topics";
import { FIRMWARE_VERSION } from "./version";

export interface DeviceOptions extends UpdatePorts {
	config: Config;
	transport: Transport;
	network: Network;
	clock: Clock;
	timers: Timers;
	log: Log;
	storage: Storage;
	sensor: Sensor;
	random: () => number;
	/** False: reconnect waits are the backoff cap itself, no jitter (fleet benchmark only). */
	jitter?: boolean;
	/** Why this boot happened, for the birth message ("power-on", "restart", "ota"). */
	bootReason?: string;
	/** Opens the configured outputs and inputs; absent: no pin is available. */
	pins?: Pins;
	/** Heap, RSSI and restart; absent: status reports null for them, restart is refused. */
	system?: System;
	/** The running firmware's version (default FIRMWARE_VERSION). */
	firmwareVersion?: string;
}

const OFFLINE = JSON.stringify({ online: false });
const RESULTS_WAITING = 8;	// results kept while the socket is full (then commands are refused)
const MAX_DETAIL = 100;		// characters of the last disconnect detail in status

export class Device {
	readonly topics: Topics;
	readonly boot: number;
	readonly connection: Connection;
	readonly telemetry: Telemetry;
	readonly gpio: Gpio;
	readonly commands: Commands;
	readonly channel: CommandChannel;
	readonly updates: Updates;
	readonly firmwareVersion: string;
	/** Home Assistant discovery, when `config.haDiscovery` is on. */
	readonly homeAssistant: HomeAssistant | undefined;
	#sampler: TimerHandle | undefined;
	#stopped = false;
	#interval: number;
	readonly #startedAt: number;
	readonly #o: DeviceOptions;

	constructor(options: DeviceOptions) {
		this.#o = options;
		const { config, storage, timers, log, system } = options;
		this.firmwareVersion = options.firmwareVersion ?? FIRMWARE_VERSION;
		this.#startedAt = options.clock.ticks();
		this.#interval = storedInterval(storage) ?? config.interval;
		this.topics = makeTopics(config.topicPrefix, config.deviceId);
		this.boot = nextBoot(storage);
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
			backoff: new Backoff({ min: config.backoffMin, max: config.backoffMax, random: options.random, jitter: options.jitter }),
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
				onMessage: (topic, payload, retained) => this.#message(topic, payload, retained === true),
			},
		});
		this.gpio = new Gpio({
			pins: options.pins, outputs: config.outputs, inputs: config.inputs, timers, log,
			onChange: () => this.channel.publishState(),
		});
		// Whoever restarts first wins: a stopped device never restarts (or does anything) again.
		const restart = system ? (reason: string) => {
			if (this.#stopped)
				return;
			this.stop();
			system.restart(reason);
		} : undefined;
		this.updates = new Updates({
			ports: options, topic: this.topics.ota, firmwareVersion: this.firmwareVersion,
			keyName: config.otaKey, confirmTimeout: config.otaConfirmTimeout, confirmAfter: config.otaConfirmAfter, storage, timers, log, restart,
			freeHeap: system && (() => system.freeHeap()), sample: () => this.telemetry.sample(),
			onSendFailed: detail => this.connection.fail(detail), fleet: { ...config, random: options.random },
		});
		this.commands = new Commands({
			gpio: this.gpio, storage, timers, log,
			status: () => this.#status(),
			setInterval: ms => this.setInterval(ms),
			restart,
			startOta: request => this.updates.begin(request),
			cancelOta: () => this.updates.cancel(),
			installRelease: () => this.updates.installRelease(),
		});
		this.channel = new CommandChannel({
			topics: this.topics, boot: this.boot, commands: this.commands, gpio: this.gpio, timers, log,
			capacity: RESULTS_WAITING,
			onSendFailed: detail => this.connection.fail(detail),
			onSettled: () => this.updates.settled(),
		});
		this.homeAssistant = config.haDiscovery ? new HomeAssistant({
			config, topics: this.topics, firmwareVersion: this.firmwareVersion, sensor: options.sensor,
			restart: restart !== undefined, update: this.updates.entity, timers, log, random: options.random,
			onSendFailed: detail => this.connection.fail(detail),
		}) : undefined;
	}

	get interval(): number { return this.#interval; }
	/** The update state machine (once the first ota.start built it) and the boot confirmation. */
	get ota(): Ota | undefined { return this.updates.ota; }
	get trial(): OtaTrial { return this.updates.trial; }

	start(): void {
		const { config, log } = this.#o;
		log(`device: ${config.deviceId} fw ${this.firmwareVersion} boot ${this.boot}, broker ${config.mqttHost}:${config.mqttPort}, every ${this.#interval} ms`);
		this.updates.start();
		this.gpio.start();
		this.#startSampling();
		this.connection.start();
	}

	stop(): void {
		if (this.#stopped)
			return;
		this.#stopped = true;
		this.commands.stop();
		this.#o.timers.clear(this.#sampler);
		this.#sampler = undefined;
		this.gpio.stop();
		this.updates.stop();
		this.channel.detach();
		this.homeAssistant?.detach();
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

	/*
	 * Order matters: subscriptions first, then the channel's retained-command deletion
	 * and settle marker, then the birth. The broker handles one connection's packets in
	 * order, so by the time anyone sees the birth the device is subscribed and its
	 * marker is already on its way back: a command sent on seeing the birth is executed.
	 */
	#online(session: Session): void {
		try {
			// Commands before sync: the channel's settle marker relies on this order.
			session.subscribe(this.topics.command);
			session.subscribe(this.topics.gpioSet);
			session.subscribe(this.topics.sync);
			for (const topic of this.homeAssistant?.subscriptions ?? [])
				session.subscribe(topic);
		}
		catch (error) {
			this.connection.fail(`subscribe: ${error}`);
			return;
		}
		this.channel.attach(session);
		if (this.connection.session !== session)
			return;	// the channel's first publish failed and ended the session
		const birth = JSON.stringify({ online: true, fw: this.firmwareVersion, boot: this.boot, reason: this.updates.bootReason ?? this.#o.bootReason ?? "power-on", model: this.#o.config.model });
		try {
			// The socket is nearly empty right after CONNACK: a full one means it is broken.
			if (!session.publish(this.topics.status, birth, true))
				throw new Error("socket full");
		}
		catch (error) {
			this.connection.fail(`birth: ${error}`);
			return;
		}
		this.updates.attach(session);
		if (this.connection.session !== session)
			return;
		this.homeAssistant?.attach(session);
		if (this.connection.session !== session)
			return;
		this.telemetry.attach(session);
	}

	#offline(reason: Reason): void {
		this.channel.detach();
		this.updates.detach();
		this.homeAssistant?.detach();
		this.telemetry.detach();
		this.#o.log(`device: offline (${reason}), ${this.telemetry.queued} readings kept`);
	}

	#message(topic: string, payload: string, retained: boolean): void {
		if (topic === this.topics.sync) {
			if (!this.channel.sync(payload) && this.telemetry.confirm(payload))
				this.updates.delivered();
		}
		else if (topic === this.topics.command)
			this.channel.receive(payload, retained);
		else if (this.homeAssistant?.listensTo(topic))
			this.homeAssistant.receive(topic, payload);
		else if (topic === this.updates.releaseTopic)
			this.updates.receiveRelease(payload);
		else {
			const pin = outputOfSetTopic(this.topics, topic);
			if (pin !== undefined)
				this.channel.receivePlain(pin, topic, payload, retained);
		}
	}

	#status(): ResultFields {
		const { connection, telemetry, channel } = this;
		const system = this.#o.system;
		const detail = connection.lastDetail;
		return {
			uptime: Math.floor((this.#o.clock.ticks() - this.#startedAt) / 1000),
			heap: system?.freeHeap() ?? null,
			rssi: system?.rssi() ?? null,
			reconnects: connection.reconnects,
			lastDisconnect: { reason: connection.lastReason, detail: detail.length > MAX_DETAIL ? detail.slice(0, MAX_DETAIL) + "..." : detail },
			queue: telemetry.queued,
			dropped: telemetry.dropped,
			commandsDropped: channel.dropped,
			unsent: this.homeAssistant?.unsent ?? null,
			interval: this.#interval,
			fw: this.firmwareVersion,
			boot: this.boot,
		};
	}
}
