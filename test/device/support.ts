/*
 * Device-test support: one firmware build per test file for the Linux simulator,
 * brokers from the integration fixture, and a simulator run that is always stopped.
 *
 * - `sdkSkip` is the reason these tests cannot run here (no SDK), or false: node:test
 *   then reports them as skipped, never as passed.
 * - Builds take about a minute in the simulator's toolchain; build once, run many.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFirmwareAsync, moddableHome, startSimulator, type Simulator } from "../../tools/sdk";
import { Fixture } from "../../tools/harness/fixture";

export const sdkSkip: string | false = moddableHome().reason ?? false;

/** Build-time config of the simulator firmware under test (values as mcconfig strings). */
export const SIM_CONFIG = { mqttHost: "localhost", interval: 1_000, backoffMin: 200, backoffMax: 2_000, keepalive: 10, connectTimeout: 10_000 };

export class DeviceFixture extends Fixture {
	readonly buildDir = mkdtempSync(join(tmpdir(), "smn-dev-build-"));
	readonly simulators: Simulator[] = [];

	/** Builds the firmware trusting this fixture's CA; `port` is the broker it dials. */
	build(port: number, deviceId: string, config: Record<string, string | number> = {}, platform = "lin"): Promise<string> {
		return buildFirmwareAsync({
			platform,
			outDir: join(this.buildDir, deviceId.replace(/[^a-z0-9]/gi, "")),
			caDer: join(this.pkiDir, "ca.der"),
			config: { ...SIM_CONFIG, mqttPort: port, deviceId, ...config },
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
