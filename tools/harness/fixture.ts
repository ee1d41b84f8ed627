/*
 * Test fixture: a fresh PKI in a temp dir, a mosquitto broker on a free loopback port,
 * devices made with createNodeDevice, and one cleanup() that stops all of them (call
 * it from after(), so it runs when a test failed too). Device logs are collected, not
 * printed; cleanup() prints them when SMN_TEST_LOGS=1 is set.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type Broker, type BrokerOptions } from "../broker/broker";
import { createNodeDevice, type NodeDevice, type NodeDeviceOptions } from "../../node/device";
import { generatePki } from "../pki";
import type { RawConfig } from "../../modules/app/config/config";
import { Watcher, type WatcherOptions } from "./watcher";

/** Small but valid timings: interval 1000 is the config minimum. */
export const FAST: RawConfig = { mqttHost: "localhost", interval: 1_000, backoffMin: 100, backoffMax: 1_000, keepalive: 5, connectTimeout: 5_000 };

export class Fixture {
	readonly pkiDir = mkdtempSync(join(tmpdir(), "smn-it-pki-"));
	readonly brokers: Broker[] = [];
	readonly devices: NodeDevice[] = [];
	readonly watchers: Watcher[] = [];
	readonly #cleanups: (() => Promise<void> | void)[] = [];

	constructor() {
		generatePki(this.pkiDir);
	}

	async broker(options: Omit<BrokerOptions, "pkiDir"> = {}): Promise<Broker> {
		const broker = await startBroker({ engine: "mosquitto", ...options, pkiDir: this.pkiDir });
		this.brokers.push(broker);
		return broker;
	}

	/** A device on `port` (a broker's or a proxy's), not started; overrides go over FAST. */
	device(port: number, overrides: RawConfig = {}, options: Omit<NodeDeviceOptions, "config" | "certsDir" | "log"> = {}): NodeDevice {
		const device = createNodeDevice({ ...options, config: { ...FAST, mqttPort: port, ...overrides }, certsDir: this.pkiDir, log: { print: false } });
		this.devices.push(device);
		return device;
	}

	async watcher(options: Omit<WatcherOptions, "pkiDir">): Promise<Watcher> {
		const watcher = await Watcher.connect({ ...options, pkiDir: this.pkiDir });
		this.watchers.push(watcher);
		return watcher;
	}

	onCleanup(step: () => Promise<void> | void): void {
		this.#cleanups.push(step);
	}

	dumpLogs(): void {
		for (const { config, log } of this.devices)
			console.log(`--- ${config.deviceId}\n${log.lines.join("\n")}`);
	}

	async cleanup(): Promise<void> {
		if (process.env.SMN_TEST_LOGS === "1")
			this.dumpLogs();
		for (const { device } of this.devices)
			try { device.stop(); } catch { /* keep cleaning */ }
		for (const watcher of this.watchers)
			await watcher.close().catch(() => undefined);
		for (const step of this.#cleanups)
			await Promise.resolve().then(step).catch(() => undefined);
		for (const broker of this.brokers)
			await broker.stop().catch(() => undefined);
		rmSync(this.pkiDir, { recursive: true, force: true });
	}
}
