/*
 * Device-test support: one firmware build per test file for the Linux simulator,
 * brokers from the integration fixture, and a simulator run that is always stopped.
 *
 * - `sdkSkip` is the reason these tests cannot run here (no SDK), or false: node:test
 *   then reports them as skipped, never as passed.
 * - Builds take about a minute in the simulator's toolchain; build once, run many.
 * - simulatedDevice(id, options) is the usual setup in one call: it registers the
 *   suite's before() (broker, optional relay and image server, build, watcher on
 *   devices/<id>/# and any more topics, simulator, the birth) and after() (retained
 *   messages it published deleted, everything stopped), and gives the tests the
 *   topics, the parsed messages, the build's state files and command() (re-sent while
 *   the device still takes commands for retained ones).
 * - DeviceFixture stays for setups the one-device shape does not fit: several builds
 *   side by side, brokers with logins, a device with no broker yet (setup mode).
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { buildFirmwareAsync, moddableHome, simulatorStateDir, startSimulator, type Simulator } from "../../tools/sdk";
import { Fixture } from "../../tools/harness/fixture";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { startProxy, type TcpProxy } from "../../tools/harness/tcp-proxy";
import { delay } from "../../tools/harness/wait";
import { parse, type Watcher, type WatcherOptions } from "../../tools/harness/watcher";
import type { Broker } from "../../tools/broker/types";
import { OTA_SIGNING_KEY } from "../../tools/ota-sign";

export const sdkSkip: string | false = moddableHome().reason ?? false;

/**
 * A fixed XS heap the size an ESP32 gives the firmware (the SDK's esp32_thing target:
 * 78,848 bytes of chunks and 4,928 slots, neither growing): the simulator otherwise grows
 * its heap from the host's memory, so running out aborts here only with this. lin
 * ignores `creation.static`; `incremental: 0` is what fixes the size there.
 */
export const BOARD_HEAP = Object.freeze({
	chunk: Object.freeze({ initial: 78_848, incremental: 0 }),
	heap: Object.freeze({ initial: 4_928, incremental: 0 }),
});

/** Build-time config of the simulator firmware under test (values as mcconfig strings). */
export const SIM_CONFIG = { mqttHost: "localhost", interval: 1_000, backoffMin: 200, backoffMax: 2_000, keepalive: 10, connectTimeout: 10_000 };

export class DeviceFixture extends Fixture {
	readonly buildDir = mkdtempSync(join(tmpdir(), "smn-dev-build-"));
	readonly simulators: Simulator[] = [];

	/**
	 * Builds the firmware trusting this fixture's CA ("sim-ca.der") and update-signing key
	 * ("sim-ota-key.der"); `port` is the broker it dials; `bundle` adds DER files by path
	 * (named by their file names).
	 */
	build(port: number, deviceId: string, config: Record<string, string | number> = {}, platform = "lin", bundle: string[] = [], creation?: Record<string, unknown>): Promise<string> {
		return buildFirmwareAsync({
			platform,
			outDir: join(this.buildDir, deviceId.replace(/[^a-z0-9]/gi, "")),
			caDer: join(this.pkiDir, "ca.der"),
			bundle,
			otaKeyDer: join(this.pkiDir, "ota-key.der"),
			config: { ...SIM_CONFIG, mqttPort: port, deviceId, ...config },
			creation,
		});
	}

	simulate(library: string, seconds = 120): Simulator {
		const simulator = startSimulator(library, seconds, line => {
			if (process.env.SMN_TEST_LOGS === "1")
				console.log(`[sim] ${line}`);
		});
		this.simulators.push(simulator);
		return simulator;
	}

	async cleanup(): Promise<void> {
		for (const simulator of this.simulators)
			await simulator.stop().catch(() => undefined);
		await super.cleanup();
		rmSync(this.buildDir, { recursive: true, force: true });
	}
}

export interface SimulatedDeviceOptions {
	/** Build-time config on top of SIM_CONFIG. */
	config?: Record<string, string | number>;
	/** "lin" (default) or "sim/<device>". */
	platform?: string;
	/** The device dials the broker through a TCP relay (cut() it like a cable). */
	relay?: boolean;
	/** An HTTPS image server with these routes (see tools/harness/image-server). */
	images?: Parameters<ImageServer["route"]>[] | true;
	/** The watcher: topics beyond devices/<id>/#, a persistent session. */
	watcher?: Partial<Pick<WatcherOptions, "topics" | "clientId" | "persistent">>;
	/** Runs once the watcher is connected, before the simulator starts (a retained message for the first boot, say). */
	beforeBoot?: (device: SimulatedDevice) => Promise<void>;
	/** false: start the simulator but wait for no birth (a build that must refuse to start). */
	awaitBirth?: boolean;
	/** Seconds the simulator may run (default 120). */
	seconds?: number;
	/** Runs before the build (files a previous run left, say). */
	prepare?: () => void;
	/** XS creation settings for this build (BOARD_HEAP: a fixed heap of an ESP32's size). */
	creation?: Record<string, unknown>;
}

export interface CommandResult {
	id: string | number | null;
	ok: boolean;
	error?: { code: string; message: string };
	[field: string]: unknown;
}

/** A firmware build running in the simulator against its own broker, for one suite. */
export class SimulatedDevice {
	fixture!: DeviceFixture;
	broker!: Broker;
	watcher!: Watcher;
	simulator!: Simulator;
	relay: TcpProxy | undefined;
	images: ImageServer | undefined;
	library = "";
	readonly #retained = new Set<string>();

	constructor(readonly id: string, readonly options: SimulatedDeviceOptions = {}) {}

	/** `devices/<id>/<leaf>` */
	topic(leaf: string): string { return `devices/${this.id}/${leaf}`; }

	/** The parsed payloads on `devices/<id>/<leaf>` so far (from message `from` on). */
	messages<T = unknown>(leaf: string, from = 0): T[] {
		return this.watcher.on(this.topic(leaf)).slice(from).map(message => parse(message.payload) as T);
	}

	/** The update-signing private key the build's otaKey belongs to. */
	signingKey(): Buffer { return readFileSync(join(this.fixture.pkiDir, OTA_SIGNING_KEY)); }

	/** A file in the build's own state folder (boot slots, storage.json; a fresh build has none). */
	stateFile(name: string): string { return join(simulatorStateDir(this.library), name); }

	/** Publishes a retained message; the suite's end deletes it, so no later run's device sees it. */
	async retain(topic: string, payload: string): Promise<void> {
		this.#retained.add(topic);
		await this.watcher.publish(topic, payload, true);
	}

	async start(): Promise<void> {
		const { options } = this;
		options.prepare?.();
		this.fixture = new DeviceFixture();
		this.broker = await this.fixture.broker();
		if (options.relay) {
			const relay = this.relay = await startProxy(this.broker.port);
			this.fixture.onCleanup(() => relay.close());
		}
		if (options.images) {
			const images = this.images = await startImageServer(this.fixture.pkiDir);
			this.fixture.onCleanup(() => images.close());
			if (options.images !== true)
				for (const route of options.images)
					images.route(...route);
		}
		this.library = await this.fixture.build(this.relay?.port ?? this.broker.port, this.id, options.config, options.platform, [], options.creation);
		const { topics = [], ...watcher } = options.watcher ?? {};
		this.watcher = await this.fixture.watcher({ ...watcher, port: this.broker.port, topics: [this.topic("#"), ...topics] });
		await options.beforeBoot?.(this);
		this.simulator = this.fixture.simulate(this.library, options.seconds);
		if (options.awaitBirth !== false)
			await this.watcher.waitFor(this.topic("status"), payload => (payload as { online?: boolean }).online === true, 90_000);
	}

	async stop(): Promise<void> {
		for (const topic of this.#retained)
			await this.watcher.publish(topic, "", true).catch(() => undefined);
		await this.fixture?.cleanup();
	}

	/**
	 * Sends a command and returns its answer. A device that has not seen its settle
	 * marker come back yet takes every command for a retained one (E_RETAINED): re-sent
	 * up to five times, half a second apart.
	 */
	async command(fields: Record<string, unknown>): Promise<CommandResult> {
		for (let attempt = 1; ; attempt++) {
			const id = `${fields.op}-${attempt}-${Date.now()}`;
			await this.watcher.publish(this.topic("cmd"), JSON.stringify({ id, ...fields }));
			const answer = await this.watcher.waitFor(this.topic("cmd/result"), payload => (payload as CommandResult).id === id, 15_000);
			const result = parse(answer.payload) as CommandResult;
			if (result.error?.code !== "E_RETAINED" || attempt >= 5)
				return result;
			await delay(500);
		}
	}
}

/** Registers the suite's setup and teardown for a SimulatedDevice (nothing runs without the SDK). */
export function simulatedDevice(id: string, options: SimulatedDeviceOptions = {}): SimulatedDevice {
	const device = new SimulatedDevice(id, options);
	before(async () => {
		if (!sdkSkip)
			await device.start();
	});
	after(() => device.stop());
	return device;
}
