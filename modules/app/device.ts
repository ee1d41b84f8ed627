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
 *   (settings.ts) when valid, else `config.interval`.
 * - Over-the-air update (ota.ts): available with `fetcher`, `createHash`,
 *   `updateTarget` and `system` (else ota.start is E_UNAVAILABLE); its progress has its
 *   own outbox on the ota topic; stop() abandons a running download. `firmwareVersion`
 *   (default FIRMWARE_VERSION) goes into birth and status; an update must be above it
 *   and signed by `otaKey` (checked through `ecdsa`; without either start() traces why).
 * - Fleet releases (updates/fleet.ts) where `config.model` names the board: subscribed
 *   to `<fleetPrefix>/<model>/release` on every session; release.install installs the
 *   latest one now; with haDiscovery its update entity state is kept retained.
 * - Boot confirmation (ota-trial.ts) over `bootSlots`: confirmed by the gate opening
 *   (onSettled), else rolled back; ota.start is E_BUSY while the image is on trial.
 */

import type { BootSlots, Clock, Ecdsa, Fetcher, Hash, Log, Network, Pins, Sensor, Session, Storage, System, Timers, TimerHandle, Transport, UpdateTarget } from "./ports";
import type { Config } from "./config";
import { Backoff } from "./backoff";
import { CommandChannel } from "./command-channel";
import type { ResultFields } from "./command-result";
import { Commands } from "./commands";
import { nextBoot, storedInterval } from "./settings";
import { Connection, Reason } from "./connection";
import { Gpio } from "./gpio";
import { HomeAssistant } from "./home-assistant";
import { Ota, type OtaLimits } from "./ota";
import { UpdateSignature } from "./ota-signature";
import { OtaTrial } from "./ota-trial";
import { Telemetry } from "./telemetry";
import { FleetUpdates } from "./updates/fleet";
import { releaseTopic } from "./updates/release";
import { makeTopics, outputOfSetTopic, type Topics } from "./topics";
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
	/** False: reconnect waits are the backoff cap itself, no jitter (fleet benchmark only). */
	jitter?: boolean;
	/** Why this boot happened, for the birth message ("power-on", "restart", "ota"). */
	bootReason?: string;
	/** Opens the configured outputs and inputs; absent: no pin is available. */
	pins?: Pins;
	/** Heap, RSSI and restart; absent: status reports null for them, restart is refused. */
	system?: System;
	/** HTTPS downloads for ota.start. */
	fetcher?: Fetcher;
	/** A fresh incremental SHA-256 per update. */
	createHash?: () => Hash;
	/** Where an update is written (the inactive OTA partition on a board). */
	updateTarget?: UpdateTarget;
	/** The running firmware's version (default FIRMWARE_VERSION). */
	firmwareVersion?: string;
	/** Shorter update limits (stall, deadline) for tests; defaults in ota.ts. */
	otaLimits?: Partial<OtaLimits>;
	/** The update-signing public key (SubjectPublicKeyInfo DER); absent: not bundled. */
	otaKey?: Uint8Array;
	/** ECDSA P-256 verification for update signatures. */
	ecdsa?: Ecdsa;
	/** The update target's boot slots (pending, confirm, revert). */
	bootSlots?: BootSlots;
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
	readonly ota: Ota;
	readonly trial: OtaTrial;
	readonly firmwareVersion: string;
	/** Fleet releases, where the config names a model. */
	readonly fleet: FleetUpdates | undefined;
	readonly releaseTopic: string | undefined;
	/** Home Assistant discovery, when `config.haDiscovery` is on. */
	readonly homeAssistant: HomeAssistant | undefined;
	#sampler: TimerHandle | undefined;
	#stopped = false;
	#interval: number;
	readonly #startedAt: number;
	readonly #signature: UpdateSignature;
	readonly #o: DeviceOptions;

	constructor(options: DeviceOptions) {
		this.#o = options;
		const { config, storage, timers, log, system } = options;
		this.#signature = UpdateSignature.load(options.otaKey, options.ecdsa, config.otaKey);
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
		this.trial = new OtaTrial({
			slots: options.bootSlots, storage, timers, log, restart,
			runningVersion: this.firmwareVersion, confirmTimeout: config.otaConfirmTimeout,
			publish: payload => this.ota.outbox.push(this.topics.ota, payload),
		});
		this.ota = new Ota({
			topic: this.topics.ota, firmwareVersion: this.firmwareVersion, model: config.model, timers, log, restart,
			fetcher: options.fetcher, createHash: options.createHash, target: options.updateTarget,
			signature: this.#signature, trial: this.trial,
			freeHeap: system && (() => system.freeHeap()),
			onSendFailed: detail => this.connection.fail(detail),
			limits: options.otaLimits,
			onProgress: (state, version, received, total) => this.fleet?.progress(state, version, received, total),
		});
		this.releaseTopic = config.model ? releaseTopic(config.fleetPrefix, config.model) : undefined;
		this.fleet = config.model ? new FleetUpdates({
			deviceId: config.deviceId, model: config.model, firmwareVersion: this.firmwareVersion,
			window: config.releaseWindow, random: options.random, signature: this.#signature, ota: this.ota,
			storage, timers, log, rolledBack: this.trial.rolledBack,
			report: payload => this.ota.outbox.push(this.topics.ota, payload),
			onState: state => this.homeAssistant?.updateState(state),
		}) : undefined;
		this.commands = new Commands({
			gpio: this.gpio, storage, timers, log,
			status: () => this.#status(),
			setInterval: ms => this.setInterval(ms),
			restart,
			startOta: request => this.ota.start(request),
			cancelOta: () => this.ota.cancel(),
			installRelease: this.fleet && (() => this.fleet!.install()),
		});
		this.channel = new CommandChannel({
			topics: this.topics, boot: this.boot, commands: this.commands, gpio: this.gpio, timers, log,
			capacity: RESULTS_WAITING,
			onSendFailed: detail => this.connection.fail(detail),
			onSettled: () => this.trial.settled(),
		});
		this.homeAssistant = config.haDiscovery ? new HomeAssistant({
			config, topics: this.topics, firmwareVersion: this.firmwareVersion, sensor: options.sensor,
			restart: restart !== undefined, update: this.fleet !== undefined, timers, log, random: options.random,
			onSendFailed: detail => this.connection.fail(detail),
		}) : undefined;
	}

	get interval(): number { return this.#interval; }

	start(): void {
		const { config, log } = this.#o;
		log(`device: ${config.deviceId} fw ${this.firmwareVersion} boot ${this.boot}, broker ${config.mqttHost}:${config.mqttPort}, every ${this.#interval} ms`);
		if (this.#signature.problem)
			log(`ota: updates refused: ${this.#signature.problem}`);
		this.trial.start();
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
		this.trial.stop();
		this.fleet?.stop();
		this.ota.stop();
		this.ota.detach();
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
			if (this.homeAssistant)
				session.subscribe(this.homeAssistant.statusTopic);
			if (this.releaseTopic)
				session.subscribe(this.releaseTopic);
		}
		catch (error) {
			this.connection.fail(`subscribe: ${error}`);
			return;
		}
		this.channel.attach(session);
		if (this.connection.session !== session)
			return;	// the channel's first publish failed and ended the session
		const birth = JSON.stringify({ online: true, fw: this.firmwareVersion, boot: this.boot, reason: this.trial.bootReason ?? this.#o.bootReason ?? "power-on", model: this.#o.config.model });
		try {
			// The socket is nearly empty right after CONNACK: a full one means it is broken.
			if (!session.publish(this.topics.status, birth, true))
				throw new Error("socket full");
		}
		catch (error) {
			this.connection.fail(`birth: ${error}`);
			return;
		}
		this.ota.attach(session);
		if (this.connection.session !== session)
			return;
		if (this.fleet)
			this.homeAssistant?.updateState(this.fleet.state());
		this.homeAssistant?.attach(session);
		if (this.connection.session !== session)
			return;
		this.telemetry.attach(session);
	}

	#offline(reason: Reason): void {
		this.channel.detach();
		this.ota.detach();
		this.homeAssistant?.detach();
		this.telemetry.detach();
		this.#o.log(`device: offline (${reason}), ${this.telemetry.queued} readings kept`);
	}

	#message(topic: string, payload: string, retained: boolean): void {
		if (topic === this.topics.sync) {
			if (!this.channel.sync(payload))
				this.telemetry.confirm(payload);
		}
		else if (topic === this.topics.command)
			this.channel.receive(payload, retained);
		else if (topic === this.homeAssistant?.statusTopic)
			this.homeAssistant.announce(payload);
		else if (topic === this.releaseTopic)
			this.fleet?.receive(payload);
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
			interval: this.#interval,
			fw: this.firmwareVersion,
			boot: this.boot,
		};
	}
}
