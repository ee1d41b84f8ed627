/*
 * SimulatorSupervisor: what `npm start` does when its simulator dies on its own, as
 * BrokerSupervisor (broker/supervise.ts) does for the broker.
 *
 * - start() runs the simulator (the given `launch`, a built mc.so in mcsim) and watches
 *   it. An exit that stop() did not ask for is said once, with how it ended (exit code,
 *   or the signal: SIGSEGV for "Segmentation fault") and its last trace lines, and the
 *   simulator is started again from the same build: a power cycle, the device boots
 *   again (boot counter +1) and reconnects by itself.
 * - A simulator that cannot stay up (more than `maxRestarts` deaths within `window`
 *   ms, or a start that throws) is not started again: giveUp(reason) is called once,
 *   and npm start stops cleanly with that message.
 * - stop() stops the running simulator and ends the watch.
 */

import { constants } from "node:os";
import type { Simulator } from "./sdk";

export interface SimulatorSupervisorOptions {
	launch: () => Simulator;
	say: (line: string) => void;
	giveUp: (reason: string) => void;
	maxRestarts?: number;	// default 3
	window?: number;		// ms, default 60_000
	lastLines?: number;		// trace lines shown with a death, default 8
}

/** "exit code 3", or the signal for the 128+n codes of `timeout`/`xvfb-run` ("SIGSEGV"). */
export function describeExit(code: number | null): string {
	if (code === null)
		return "killed";
	const signal = code > 128 ? Object.entries(constants.signals).find(([, number]) => number === code - 128)?.[0] : undefined;
	return signal ? `${signal}${signal === "SIGSEGV" ? " (Segmentation fault)" : ""}` : `exit code ${code}`;
}

export class SimulatorSupervisor {
	readonly #o: Required<SimulatorSupervisorOptions>;
	readonly #deaths: number[] = [];
	#current: Simulator | undefined;
	#stopping = false;

	constructor(options: SimulatorSupervisorOptions) {
		this.#o = { maxRestarts: 3, window: 60_000, lastLines: 8, ...options };
	}

	start(): void {
		if (this.#stopping)
			return;
		let simulator: Simulator;
		try {
			simulator = this.#o.launch();
		}
		catch (error) {
			return this.#giveUp(`the simulator could not be started: ${error instanceof Error ? error.message : error}`);
		}
		this.#current = simulator;
		void simulator.exited.then(code => this.#exited(simulator, code));
	}

	async stop(): Promise<void> {
		this.#stopping = true;
		await this.#current?.stop();
	}

	#exited(simulator: Simulator, code: number | null): void {
		if (this.#stopping || simulator !== this.#current)
			return;
		const { say, maxRestarts, window, lastLines } = this.#o;
		const now = Date.now();
		this.#deaths.push(now);
		while (this.#deaths.length && now - this.#deaths[0] > window)
			this.#deaths.shift();
		const last = simulator.lines.filter(line => line.trim()).slice(-lastLines);
		const how = `the simulator died (${describeExit(code)}); its last lines:\n${last.map(line => `    ${line}`).join("\n") || "    (none)"}`;
		if (this.#deaths.length > maxRestarts)
			return this.#giveUp(`${how}\nit died ${this.#deaths.length} times in ${Math.round(window / 1000)} s: run it by hand to see why (the README's "Try it in the simulator first"), or run without MODDABLE for the Node emulator`);
		say(`simulator: ${how}\nsimulator: starting it again from the same build (the device boots again)`);
		this.start();
	}

	#giveUp(reason: string): void {
		if (this.#stopping)
			return;
		this.#stopping = true;
		this.#o.giveUp(reason);
	}
}
