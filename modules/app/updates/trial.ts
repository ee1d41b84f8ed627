/*
 * OtaTrial: boot confirmation with automatic rollback, the half of an update that
 * happens after the restart.
 *
 * - An image made bootable by an update boots *pending* (onTrial(): BootSlots.pending(),
 *   the one place that fact is read). It confirms itself (BootSlots.confirm()) only
 *   after a healthy window (confirm-window.ts): one session online for `confirmAfter`
 *   ms (otaConfirmAfter) in which the command gate opened (settled()) and a reading
 *   was delivered (delivered()); going offline restarts the window. Each session of a
 *   pending image starts with a reading (`sample`), so a long interval does not hold
 *   the confirmation back. Then {"state":"confirmed","version","boots"} goes to the
 *   ota topic: the report comes when the slots really are confirmed.
 * - It reverts (BootSlots.revert(), then restart("rollback")) when it is not confirmed
 *   within `confirmTimeout` ms of start(), or at once when this is its boot number
 *   MAX_TRIAL_BOOTS + 1 (it booted MAX_TRIAL_BOOTS times without confirming: any
 *   restart inside the window counts). On ESP32 the bootloader reverts even earlier:
 *   on any reboot before confirmation.
 * - An image that refuses to start (its config or credentials) builds no device and so
 *   no OtaTrial: refusedOnTrial() is its rollback, called by main.ts and the Node
 *   emulator before they refuse. On trial it records why, traces the rollback and
 *   reverts, and the caller restarts; not on trial it does nothing (the image refuses
 *   as always).
 * - The image that boots after a revert (pending() false, a trial still recorded) is
 *   in state rolled-back: its birth reason is "rollback", and on its first settled
 *   session {"state":"rolled-back","version":<the failed version>,"running","cause"} is
 *   published and the record cleared (until then every boot reports it again).
 * - Storage (keys in config/settings.ts): TRIAL_KEY the version on trial ("" when none,
 *   written by installed() just before the restart into it), FROM_KEY the version it
 *   replaced (what a rollback returns to), BOOTS_KEY its boots so far, CAUSE_KEY why it
 *   was reverted.
 * - Without BootSlots (memory targets) nothing is ever pending: state stays settled.
 * - The slots are kept only while the image is pending (confirm or revert to come):
 *   on a board they are the update target, built again by the next ota.start.
 */

import type { BootSlots, Log, Storage, TimerHandle, Timers } from "../ports";
import { KEY } from "../config/settings";
import { ConfirmWindow } from "./confirm-window";

export const TrialState = Object.freeze({
	Settled: "settled",		// a confirmed image runs: nothing to do
	Pending: "pending",		// an update on trial, waiting for its healthy window
	Confirmed: "confirmed",	// the update confirmed itself on this boot
	RolledBack: "rolled-back",	// the previous image, back after a failed update; not reported yet
	Reverting: "reverting",	// the trial failed: the previous image is bootable, restart requested
});
export type TrialState = typeof TrialState[keyof typeof TrialState];

export const MAX_TRIAL_BOOTS = 3;
export const { otaTrial: TRIAL_KEY, otaFrom: FROM_KEY, otaBoots: BOOTS_KEY, otaCause: CAUSE_KEY } = KEY;
const BOOTLOADER_CAUSE = "rebooted before confirming (the bootloader went back)";
const MAX_CAUSE = 160;	// characters of a refusal kept for the rolled-back report

/** True when the running image is an update on trial: booted, not yet confirmed. */
export function onTrial(slots: BootSlots | undefined): boolean {
	return slots?.pending() === true;
}

export interface RefusalOptions {
	slots: BootSlots | undefined;
	storage: Storage;
	log: Log;
	/** The version this image runs. */
	runningVersion: string;
	/** Why it refuses to start (config and credential problems). */
	problems: string[];
}

/**
 * An image that refuses to start: when it is on trial, records the cause for the
 * image that boots next, traces the rollback and reverts (a board reboots inside
 * revert()); true then, and the caller restarts. False when it is not on trial, or
 * the revert failed: the caller refuses as always.
 */
export function refusedOnTrial(options: RefusalOptions): boolean {
	const { slots, storage, log, runningVersion, problems } = options;
	let pending: boolean;
	try {
		pending = onTrial(slots);
	}
	catch (error) {
		log(`config: cannot read the boot slots: ${error}`);
		return false;
	}
	if (!pending)
		return false;
	const trial = storage.get(TRIAL_KEY), from = storage.get(FROM_KEY);
	const version = typeof trial === "string" && trial ? trial : runningVersion;
	const first = problems[0] ?? "unknown problem";
	const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
	storage.set(TRIAL_KEY, version);
	storage.set(CAUSE_KEY, `refused to start: ${first.length > MAX_CAUSE ? first.slice(0, MAX_CAUSE) + "..." : first}${more}`);
	log(`config: refusing to start (${problems.length} problem(s)); this image (${version}) is on trial: rolling back to ${typeof from === "string" && from ? from : "the previous image"}`);
	try {
		slots!.revert();
	}
	catch (error) {
		log(`config: cannot roll back: ${error}; staying on ${version}`);
		return false;
	}
	return true;
}

export interface OtaTrialOptions {
	slots: BootSlots | undefined;
	storage: Storage;
	timers: Timers;
	log: Log;
	/** The version this boot runs. */
	runningVersion: string;
	confirmTimeout: number;	// ms from start() to confirm, else rollback
	confirmAfter: number;	// ms a session must stay healthy before confirming
	/** Takes a reading now (each session of a pending image starts with one). */
	sample?(): void;
	/** Stops the device and restarts it; undefined where nothing can restart. */
	restart: ((reason: string) => void) | undefined;
	/** Queues one message on the ota topic. */
	publish(payload: string): void;
}

export class OtaTrial {
	#state: TrialState;
	#version: string;	// the version on trial, or the one that failed
	#boots = 0;
	#timer: TimerHandle | undefined;
	#slots: BootSlots | undefined;
	#window: ConfirmWindow | undefined;
	readonly #o: Omit<OtaTrialOptions, "slots">;

	constructor(options: OtaTrialOptions) {
		const { slots, ...rest } = options;
		this.#o = rest;
		const { storage } = options;
		const trial = storage.get(TRIAL_KEY);
		this.#version = typeof trial === "string" ? trial : "";
		if (onTrial(slots)) {
			this.#state = TrialState.Pending;
			this.#slots = slots;
			this.#version ||= options.runningVersion;
			this.#window = new ConfirmWindow({ timers: options.timers, after: options.confirmAfter, onHealthy: () => this.#confirm() });
		}
		else
			this.#state = slots && this.#version ? TrialState.RolledBack : TrialState.Settled;
	}

	get state(): TrialState { return this.#state; }
	/** "rollback" when this boot came back from a failed update, else undefined. */
	get bootReason(): string | undefined { return this.#state === TrialState.RolledBack ? "rollback" : undefined; }
	/** The version whose update failed and rolled back, on the boot that reports it. */
	get rolledBack(): string | undefined { return this.#state === TrialState.RolledBack ? this.#version : undefined; }
	get pending(): boolean { return this.#state === TrialState.Pending || this.#state === TrialState.Reverting; }

	/** The device starts: a pending image counts this boot and gets its deadline. */
	start(): void {
		if (this.#state !== TrialState.Pending)
			return;
		const { storage, timers, log, confirmTimeout, confirmAfter } = this.#o;
		const stored = storage.get(BOOTS_KEY);
		this.#boots = (typeof stored === "number" && stored >= 0 ? stored : 0) + 1;
		storage.set(BOOTS_KEY, this.#boots);
		if (this.#boots > MAX_TRIAL_BOOTS) {
			this.#timer = timers.set(() => this.#revert(`booted ${MAX_TRIAL_BOOTS} times without confirming`), 0);
			return;
		}
		log(`ota: ${this.#version} is on trial (boot ${this.#boots} of ${MAX_TRIAL_BOOTS}): confirming after ${confirmAfter} ms online with commands open and a reading delivered, else rollback in ${confirmTimeout} ms`);
		this.#timer = timers.set(() => this.#revert(`not confirmed within ${confirmTimeout} ms`), confirmTimeout);
	}

	/** An update was written and is about to boot on trial. */
	installed(version: string): void {
		const { storage } = this.#o;
		storage.set(TRIAL_KEY, version);
		storage.set(FROM_KEY, this.#o.runningVersion);
		storage.set(BOOTS_KEY, 0);
		storage.set(CAUSE_KEY, "");
	}

	/** A session is up: a pending image's window starts, with a reading. */
	online(): void {
		if (this.#state !== TrialState.Pending)
			return;
		this.#window?.online();
		this.#o.sample?.();
	}

	/** The session is gone: the window starts over with the next one. */
	offline(): void { this.#window?.offline(); }

	/** A reading's sync marker came back. */
	delivered(): void { this.#window?.delivered(); }

	/** A session whose settle marker came back (called on every such session). */
	settled(): void {
		const { storage, publish } = this.#o;
		if (this.#state === TrialState.Pending)
			this.#window?.settled();
		else if (this.#state === TrialState.RolledBack) {
			const cause = storage.get(CAUSE_KEY);
			publish(JSON.stringify({
				state: TrialState.RolledBack, version: this.#version, running: this.#o.runningVersion,
				cause: typeof cause === "string" && cause ? cause : BOOTLOADER_CAUSE,
			}));
			storage.set(TRIAL_KEY, "");
			storage.set(CAUSE_KEY, "");
			this.#state = TrialState.Settled;
		}
	}

	/** The device stops: the deadline and the window go with it (the next boot sets its own). */
	stop(): void {
		this.#o.timers.clear(this.#timer);
		this.#timer = undefined;
		this.#window?.stop();
	}

	/** The window found this image healthy: keep it. False when the slots refused (the deadline still stands). */
	#confirm(): boolean {
		const { storage, log, publish } = this.#o;
		if (this.#state !== TrialState.Pending)
			return false;
		storage.set(TRIAL_KEY, "");	// first: a crash before confirm() then retries the trial, not a false rollback report
		try {
			this.#slots!.confirm();
		}
		catch (error) {
			storage.set(TRIAL_KEY, this.#version);
			log(`ota: cannot confirm ${this.#version}: ${error}; the deadline still stands`);
			return false;
		}
		this.#o.timers.clear(this.#timer);
		this.#timer = undefined;
		this.#state = TrialState.Confirmed;
		this.#slots = undefined;
		this.#window = undefined;
		log(`ota: ${this.#version} confirmed`);
		publish(JSON.stringify({ state: TrialState.Confirmed, version: this.#version, boots: this.#boots }));
		return true;
	}

	#revert(cause: string): void {
		const { storage, log, restart } = this.#o;
		const slots = this.#slots;
		this.#timer = undefined;
		if (this.#state !== TrialState.Pending)
			return;
		this.#window?.stop();
		log(`ota: ${this.#version} ${cause}: rolling back`);
		storage.set(CAUSE_KEY, cause);
		try {
			slots!.revert();
		}
		catch (error) {
			log(`ota: cannot roll back: ${error}; staying on ${this.#version}`);
			return;
		}
		this.#state = TrialState.Reverting;
		restart?.("rollback");
	}
}
