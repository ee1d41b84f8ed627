/*
 * Updates: the update feature as the device composes it: ota.start and ota.cancel,
 * progress on the ota topic, and the boot confirmation of an updated image.
 *
 * - Built on first use: until the first ota.start nothing but the boot confirmation
 *   (trial.ts) exists. The first ota.start builds the signature checker (signature.ts)
 *   and the update state machine (ota.ts); each ota.start that passes its checks opens
 *   the update target and a fetcher, released when that update fails (ota.ts). The
 *   boot slots are opened at boot and kept only while this image is on trial.
 * - The platform's parts (UpdatePorts) come as factories (a board: nothing is built
 *   before it is needed) or as instances (Node, tests). Without a fetcher, createHash,
 *   a target or restart every ota.start and ota.cancel is E_UNAVAILABLE; without
 *   otaKey or ecdsa every ota.start is, and start() traces why.
 * - The ota topic has one outbox (progress.ts), built with the first message (an
 *   update's progress or the trial's report) and kept: it may hold messages for the
 *   next session.
 * - start() counts a boot on trial; attach()/detach() (the session), settled() (the
 *   command gate opened) and delivered() (a reading's marker came back) drive its
 *   confirm window (trial.ts); stop() abandons a running download and clears every
 *   timer.
 * - Fleet releases (fleet.ts), where `model` names the board: `releaseTopic` is what the
 *   device subscribes to (attach() does, on every session, so the retained release
 *   comes), receiveRelease() each message on it, installRelease() the release.install
 *   command. The release follower (FleetUpdates) is built by the first of these, by the
 *   first update progress (the entity shows an ota.start's too), or at start-up on a
 *   boot that rolled back (it records the failed version); a device whose model has no
 *   release never builds it. It drives the update machine through the same first-use
 *   path as ota.start. `entity` is Home Assistant's update entity: the follower's
 *   state, or the idle one (fleet.ts entityState) before it exists.
 *   Without a model, updates are refused (E_UNAVAILABLE) and no release is followed.
 * - begin() is ota.start: a request for another model than `model` is refused
 *   ("model", E_MODEL on the wire) before Ota looks at it, so before anything is fetched.
 */

import type { BootSlots, Ecdsa, Fetcher, Hash, Log, Session, Storage, Timers, UpdateTarget } from "../ports";
import { OtaRefusal, OtaRefused, type OtaCancelled, type OtaRequest, type OtaStarted } from "./request";
import { Ota, type OtaLimits } from "./ota";
import { UpdateProgress } from "./progress";
import { UpdateSignature } from "./signature";
import { OtaTrial } from "./trial";
import { FleetUpdates, entityState, type UpdateRunner } from "./fleet";
import { releaseTopic } from "./release";
import type { Config } from "../config/config";

/** What an update needs from the platform; every part is optional. */
export interface UpdatePorts {
	/** Builds the HTTPS fetcher for one download (instead of `fetcher`). */
	createFetcher?: () => Fetcher;
	/** HTTPS downloads for ota.start. */
	fetcher?: Fetcher;
	/** A fresh incremental SHA-256 per update. */
	createHash?: () => Hash;
	/**
	 * Opens the update target with its boot slots (instead of `updateTarget` and
	 * `bootSlots`): once at boot to read the slots, and by each ota.start.
	 */
	openUpdateTarget?: () => UpdateTarget & BootSlots;
	/** Where an update is written (the inactive OTA partition on a board). */
	updateTarget?: UpdateTarget;
	/** The update target's boot slots (pending, confirm, revert). */
	bootSlots?: BootSlots;
	/** Shorter update limits (stall, deadline) for tests; defaults in watchdog.ts. */
	otaLimits?: Partial<OtaLimits>;
	/** The update-signing public key (SubjectPublicKeyInfo DER); absent: not bundled. */
	otaKey?: Uint8Array;
	/** ECDSA P-256 verification for update signatures. */
	ecdsa?: Ecdsa;
}

export interface UpdatesOptions {
	ports: UpdatePorts;
	topic: string;
	firmwareVersion: string;
	/** The config's otaKey: names the key in the reason updates are refused. */
	keyName: string;
	confirmTimeout: number;		// ms
	confirmAfter: number;		// ms
	/** Takes a reading now: a session of an image on trial starts with one. */
	sample?(): void;
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

const UNAVAILABLE = "ota is not available on this platform";

/** Home Assistant's update entity as the home-assistant feature reads it. */
export interface UpdateEntity {
	state(): string;
	watch(listener: (state: string) => void): void;
}

export class Updates {
	readonly trial: OtaTrial;
	readonly releaseTopic: string | undefined;
	/** Home Assistant's update entity, where the config names a model. */
	readonly entity: UpdateEntity | undefined;
	#fleet: FleetUpdates | undefined;
	#entityListener: ((state: string) => void) | undefined;
	#signature: UpdateSignature | undefined;
	#ota: Ota | undefined;
	#progress: UpdateProgress | undefined;
	#session: Session | undefined;
	readonly #openFetcher: (() => Fetcher) | undefined;
	readonly #openTarget: (() => UpdateTarget) | undefined;
	readonly #o: UpdatesOptions;

	constructor(options: UpdatesOptions) {
		this.#o = options;
		const { ports, storage, timers, log, restart } = options;
		const { fetcher, updateTarget, openUpdateTarget } = ports;
		this.#openFetcher = ports.createFetcher ?? (fetcher && (() => fetcher));
		this.#openTarget = openUpdateTarget ?? (updateTarget && (() => updateTarget));
		this.trial = new OtaTrial({
			slots: openUpdateTarget ? openUpdateTarget() : ports.bootSlots, storage, timers, log, restart,
			runningVersion: options.firmwareVersion, confirmTimeout: options.confirmTimeout, confirmAfter: options.confirmAfter,
			sample: options.sample,
			publish: payload => this.#outbox().change(payload),
		});
		const { model, fleetPrefix } = options.fleet;
		this.releaseTopic = model ? releaseTopic(fleetPrefix, model) : undefined;
		this.entity = model ? {
			state: () => this.#fleet?.state() ?? entityState(options.firmwareVersion, undefined),
			watch: listener => {
				this.#entityListener = listener;
				this.#fleet?.watch(listener);
			},
		} : undefined;
		if (this.trial.rolledBack)
			this.#follower();
	}

	/** The release follower, once built (see above). */
	get fleet(): FleetUpdates | undefined { return this.#fleet; }

	/** The update state machine, once the first ota.start built it. */
	get ota(): Ota | undefined { return this.#ota; }
	/** "rollback" when this boot came back from a failed update, else undefined. */
	get bootReason(): string | undefined { return this.trial.bootReason; }
	get available(): boolean { return !!(this.#openFetcher && this.#o.ports.createHash && this.#openTarget && this.#o.restart); }

	start(): void {
		const problem = UpdateSignature.missing(this.#o.ports.otaKey, this.#o.ports.ecdsa, this.#o.keyName);
		if (problem)
			this.#o.log(`ota: updates refused: ${problem}`);
		this.trial.start();
	}

	stop(): void {
		this.#fleet?.stop();
		this.trial.stop();
		this.#ota?.stop();
		this.detach();
	}

	/** The ota.start command. */
	begin(request: OtaRequest): OtaStarted {
		const model = this.#o.fleet.model;
		if (!model)
			throw new OtaRefused(OtaRefusal.Unavailable, "this build names no board model (config model)");
		if (request.model !== model)
			throw new OtaRefused(OtaRefusal.Model, `the image is for model ${request.model}; this device is ${model}`);
		return this.#machine().start(request);
	}

	/** The ota.cancel command. */
	cancel(): OtaCancelled {
		if (!this.available)
			throw new OtaRefused(OtaRefusal.Unavailable, UNAVAILABLE);
		if (!this.#ota)
			throw new OtaRefused(OtaRefusal.Idle, "no update is running");
		return this.#ota.cancel();
	}

	/** A message on releaseTopic. */
	receiveRelease(payload: string): void { this.#follower()?.receive(payload); }

	/** The release.install command. */
	installRelease(): OtaStarted {
		const fleet = this.#follower();
		if (!fleet)
			throw new OtaRefused(OtaRefusal.Unavailable, "fleet releases need a board model (config model)");
		return fleet.install();
	}

	/** This session's command gate opened (the trial's window, or its rolled-back report). */
	settled(): void { this.trial.settled(); }

	/** A reading's sync marker came back. */
	delivered(): void { this.trial.delivered(); }

	/** Subscribes to the release topic (its retained release comes next), then sends waiting progress. */
	attach(session: Session): void {
		try {
			if (this.releaseTopic)
				session.subscribe(this.releaseTopic);
		}
		catch (error) {
			return this.#o.onSendFailed(`subscribe: ${error}`);
		}
		this.#session = session;
		this.#progress?.outbox.attach(session);
		this.trial.online();
	}

	detach(): void {
		this.trial.offline();
		this.#session = undefined;
		this.#progress?.outbox.detach();
	}

	#outbox(): UpdateProgress {
		if (!this.#progress) {
			const { topic, timers, log, onSendFailed } = this.#o;
			this.#progress = new UpdateProgress({ topic, timers, log, onSendFailed, onReport: fields => this.#follower()?.progress(fields) });
			if (this.#session)
				this.#progress.outbox.attach(this.#session);
		}
		return this.#progress;
	}

	#machine(): Ota {
		if (this.#ota)
			return this.#ota;
		const { ports, firmwareVersion, timers, log, restart, freeHeap } = this.#o;
		const openFetcher = this.#openFetcher, openTarget = this.#openTarget, createHash = ports.createHash;
		if (!openFetcher || !openTarget || !createHash || !restart)
			throw new OtaRefused(OtaRefusal.Unavailable, UNAVAILABLE);
		return this.#ota = new Ota({
			firmwareVersion, timers, log, restart, openFetcher, openTarget, createHash, freeHeap,
			signature: this.#checker(),
			trial: this.trial,
			progress: this.#outbox(),
			limits: ports.otaLimits,
		});
	}

	/** The release follower, built on first use where the config names a model. */
	#follower(): FleetUpdates | undefined {
		if (this.#fleet || !this.releaseTopic)
			return this.#fleet;
		const { firmwareVersion, storage, timers, log } = this.#o;
		const { model, deviceId, releaseWindow, random } = this.#o.fleet;
		const updates = this;
		const runner: UpdateRunner = {
			get state() { return updates.#ota?.state ?? "idle"; },
			start: request => updates.#machine().start(request),
			cancel: () => updates.#ota?.cancel(),
		};
		const fleet = this.#fleet = new FleetUpdates({
			deviceId, model, firmwareVersion, window: releaseWindow, random,
			signature: { check: (fields, signature) => this.#checker().check(fields, signature) },
			ota: runner, storage, timers, log, rolledBack: this.trial.rolledBack,
			report: payload => this.#outbox().change(payload),
		});
		if (this.#entityListener)
			fleet.watch(this.#entityListener);
		return fleet;
	}

	/** The signature checker, loaded by the first update or release that needs it. */
	#checker(): UpdateSignature {
		const { ports, keyName } = this.#o;
		return this.#signature ??= UpdateSignature.load(ports.otaKey, ports.ecdsa, keyName);
	}
}
