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
 * - Fleet releases (fleet.ts), where `model` names the board: `releaseTopic` is what the
 *   device subscribes to (attach() does, on every session), receiveRelease() each message
 *   on it, installRelease() the release.install command.
 *   Without a model, updates are refused (E_UNAVAILABLE) and no release is followed.
 * - begin() is ota.start: a request for another model than `model` is refused
 *   ("model", E_MODEL on the wire) before Ota looks at it, so before anything is fetched.
 */

import type { BootSlots, Ecdsa, Fetcher, Hash, Log, Session, Storage, Timers, UpdateTarget } from "../ports";
import { Ota, type OtaCancelled, type OtaLimits, type OtaRequest, type OtaStarted } from "./ota";
import { OtaRefusal, OtaRefused } from "./request";
import { UpdateSignature } from "./signature";
import { OtaTrial } from "./trial";
import { FleetUpdates } from "./fleet";
import { releaseTopic } from "./release";
import type { Config } from "../config/config";

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
	/** The board model updates must name ("" refuses them all); fleet releases: the device's id (its bucket), fleetPrefix, releaseWindow (ms). */
	fleet: Pick<Config, "model" | "deviceId" | "fleetPrefix" | "releaseWindow"> & { random: () => number };
}

export class Updates {
	readonly ota: Ota;
	readonly trial: OtaTrial;
	/** Fleet releases, where the config names a model. */
	readonly fleet: FleetUpdates | undefined;
	readonly releaseTopic: string | undefined;
	readonly #signature: UpdateSignature;
	readonly #model: string;
	readonly #onSendFailed: (detail: string) => void;
	readonly #log: Log;

	constructor(options: UpdatesOptions) {
		const { ports, topic, firmwareVersion, storage, timers, log, restart } = options;
		this.#log = log;
		this.#model = options.fleet.model;
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
			onProgress: fields => this.fleet?.progress(fields),
		});
		const { model, deviceId, fleetPrefix, releaseWindow, random } = options.fleet;
		this.releaseTopic = model ? releaseTopic(fleetPrefix, model) : undefined;
		this.fleet = model ? new FleetUpdates({
			deviceId, model, firmwareVersion, window: releaseWindow, random,
			signature: this.#signature, ota: this.ota, storage, timers, log, rolledBack: this.trial.rolledBack,
			report: payload => this.ota.outbox.push(topic, payload),
		}) : undefined;
		this.#onSendFailed = options.onSendFailed;
	}

	/** "rollback" when this boot came back from a failed update, else undefined. */
	get bootReason(): string | undefined { return this.trial.bootReason; }

	start(): void {
		if (this.#signature.problem)
			this.#log(`ota: updates refused: ${this.#signature.problem}`);
		this.trial.start();
	}

	stop(): void {
		this.fleet?.stop();
		this.trial.stop();
		this.ota.stop();
		this.ota.detach();
	}

	begin(request: OtaRequest): OtaStarted {
		if (!this.#model)
			throw new OtaRefused(OtaRefusal.Unavailable, "this build names no board model (config model)");
		if (request.model !== this.#model)
			throw new OtaRefused(OtaRefusal.Model, `the image is for model ${request.model}; this device is ${this.#model}`);
		return this.ota.start(request);
	}
	cancel(): OtaCancelled { return this.ota.cancel(); }
	/** A message on releaseTopic. */
	receiveRelease(payload: string): void { this.fleet?.receive(payload); }
	/** The release.install command. */
	installRelease(): OtaStarted {
		if (!this.fleet)
			throw new OtaRefused(OtaRefusal.Unavailable, "fleet releases need a board model (config model)");
		return this.fleet.install();
	}
	/** The first settled session: an image on trial confirms itself. */
	settled(): void { this.trial.settled(); }
	/** Subscribes to the release topic (its retained release comes next), then sends waiting progress. */
	attach(session: Session): void {
		try {
			if (this.releaseTopic)
				session.subscribe(this.releaseTopic);
		}
		catch (error) {
			return this.#onSendFailed(`subscribe: ${error}`);
		}
		this.ota.attach(session);
	}
	detach(): void { this.ota.detach(); }
}
