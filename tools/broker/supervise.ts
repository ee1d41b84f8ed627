/*
 * BrokerSupervisor: what `npm start` does when its broker dies on its own.
 *
 * - exited(why), wired to startBroker's onExit, says so once (with the broker's log
 *   file) and starts the broker again on the same port; the device and the monitor
 *   reconnect by themselves, each with its own backoff, and say so once.
 * - A broker that cannot stay up (more than `maxRestarts` deaths within `window` ms,
 *   or a restart that fails) is not restarted again: giveUp(reason) is called once,
 *   and npm start stops cleanly. stop() ends the watch (npm start stopping).
 */

import type { Broker } from "./types";

export interface SupervisorOptions {
	say: (line: string) => void;
	giveUp: (reason: string) => void;
	maxRestarts?: number;	// default 3
	window?: number;		// ms, default 60_000
}

export class BrokerSupervisor {
	readonly #options: Required<SupervisorOptions>;
	readonly #deaths: number[] = [];
	#broker: Broker | undefined;
	#gaveUp = false;

	constructor(options: SupervisorOptions) {
		this.#options = { maxRestarts: 3, window: 60_000, ...options };
	}

	/** Stops watching (npm start is stopping the broker itself). */
	stop(): void {
		this.#gaveUp = true;
	}

	/** The broker to restart (startBroker's result; onExit is wired before it exists). */
	attach(broker: Broker): void {
		this.#broker = broker;
	}

	readonly exited = (why: string): void => {
		const broker = this.#broker;
		if (this.#gaveUp || !broker)
			return;
		const { say, maxRestarts, window } = this.#options;
		const now = Date.now();
		this.#deaths.push(now);
		while (this.#deaths.length && now - this.#deaths[0] > window)
			this.#deaths.shift();
		const log = broker.logFile ? ` (log ${broker.logFile})` : "";
		if (this.#deaths.length > maxRestarts)
			return this.#giveUp(`the broker died ${this.#deaths.length} times in ${Math.round(window / 1000)} s, last: ${why}${log}`);
		say(`broker: ${why}${log}; starting it again on port ${broker.port}`);
		broker.restart().then(
			() => say(`broker: ${broker.kind} is back on localhost:${broker.port}`),
			(error: unknown) => this.#giveUp(`the broker could not be started again: ${error instanceof Error ? error.message : error}`));
	};

	#giveUp(reason: string): void {
		if (this.#gaveUp)
			return;
		this.#gaveUp = true;
		this.#options.giveUp(reason);
	}
}
