/*
 * Updates: the update feature as the device composes it: ota.start and ota.cancel,
 * progress on the ota topic, and the boot confirmation of an updated image.
 *
 * - Built from UpdatePorts (all optional: without fetcher, createHash, updateTarget
 *   and restart every ota.start is E_UNAVAILABLE; without otaKey or ecdsa too, and
 *   start() traces why) plus the device's topic, version, storage, timers and log.
 * - `ota` is the update state machine (ota.ts), `trial` the boot confirmation
 *   (trial.ts); both report through one outbox on the ota topic.
 * - start() counts a boot on trial; settled() is the first settled session (the trial
 *   confirms); stop() abandons a running download and clears every timer.
 */

import type { BootSlots, Ecdsa, Fetcher, Hash, Log, Session, Storage, Timers, UpdateTarget } from "../ports";
import { Ota, type OtaCancelled, type OtaLimits, type OtaRequest, type OtaStarted } from "./ota";
import { UpdateSignature } from "./signature";
import { OtaTrial } from "./trial";

/** What an update needs from the platform; every part is optional. */
export interface UpdatePorts {
	/** HTTPS downloads for ota.start. */
	fetcher?: Fetcher;
	/** A fresh incremental SHA-256 per update. */
	createHash?: () => Hash;
	/** Where an update is written (the inactive OTA partition on a board). */
	updateTarget?: UpdateTarget;
	/** Shorter update limits (stall, deadline) for tests; defaults in watchdog.ts. */
	otaLimits?: Partial<OtaLimits>;
	/** The update-signing public key (SubjectPublicKeyInfo DER); absent: not bundled. */
	otaKey?: Uint8Array;
	/** ECDSA P-256 verification for update signatures. */
	ecdsa?: Ecdsa;
	/** The update target's boot slots (pending, confirm, revert). */
	bootSlots?: BootSlots;
}

export interface UpdatesOptions {
	ports: UpdatePorts;
	topic: string;
	firmwareVersion: string;
	/** The config's otaKey: names the key in the reason updates are refused. */
	keyName: string;
	confirmTimeout: number;		// ms
	storage: Storage;
	timers: Timers;
	log: Log;
	/** Stops the device and restarts it; undefined where nothing can restart. */
	restart: ((reason: string) => void) | undefined;
	freeHeap: (() => number | undefined) | undefined;
	onSendFailed(detail: string): void;
}

export class Updates {
	readonly ota: Ota;
	readonly trial: OtaTrial;
	readonly #signature: UpdateSignature;
	readonly #log: Log;

	constructor(options: UpdatesOptions) {
		const { ports, topic, firmwareVersion, storage, timers, log, restart } = options;
		this.#log = log;
		this.#signature = UpdateSignature.load(ports.otaKey, ports.ecdsa, options.keyName);
		this.trial = new OtaTrial({
			slots: ports.bootSlots, storage, timers, log, restart,
			runningVersion: firmwareVersion, confirmTimeout: options.confirmTimeout,
			publish: payload => this.ota.outbox.push(topic, payload),
		});
		this.ota = new Ota({
			topic, firmwareVersion, timers, log, restart,
			fetcher: ports.fetcher, createHash: ports.createHash, target: ports.updateTarget,
			signature: this.#signature, trial: this.trial,
			freeHeap: options.freeHeap,
			onSendFailed: options.onSendFailed,
			limits: ports.otaLimits,
		});
	}

	/** "rollback" when this boot came back from a failed update, else undefined. */
	get bootReason(): string | undefined { return this.trial.bootReason; }

	start(): void {
		if (this.#signature.problem)
			this.#log(`ota: updates refused: ${this.#signature.problem}`);
		this.trial.start();
	}

	stop(): void {
		this.trial.stop();
		this.ota.stop();
		this.ota.detach();
	}

	begin(request: OtaRequest): OtaStarted { return this.ota.start(request); }
	cancel(): OtaCancelled { return this.ota.cancel(); }
	/** The first settled session: an image on trial confirms itself. */
	settled(): void { this.trial.settled(); }
	attach(session: Session): void { this.ota.attach(session); }
	detach(): void { this.ota.detach(); }
}
