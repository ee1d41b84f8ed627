/*
 * OtaTrial: boot confirmation with automatic rollback, the half of an update that
 * happens after the restart.
 *
 * - An image made bootable by an update boots *pending* (BootSlots.pending()). It
 *   confirms itself (BootSlots.confirm()) on settled(): its first session whose settle
 *   marker came back from the broker, the same turn trip that opens the command gate
 *   (the birth leaves in the same turn, right behind the marker). Then {"state":
 *   "confirmed","version","boots"} goes to the ota topic.
 * - It reverts (BootSlots.revert(), then restart("rollback")) when settled() has not
 *   come within `confirmTimeout` ms of start(), or at once when this is its boot number
 *   MAX_TRIAL_BOOTS + 1 (it booted MAX_TRIAL_BOOTS times without confirming). On ESP32
 *   the bootloader reverts even earlier: on any reboot before confirmation.
 * - The image that boots after a revert (pending() false, a trial still recorded) is
 *   in state rolled-back: its birth reason is "rollback", and on its first settled
 *   session {"state":"rolled-back","version":<the failed version>,"running","cause"} is
 *   published and the record cleared (until then every boot reports it again).
 * - Storage (keys in config/settings.ts): TRIAL_KEY the version on trial ("" when none,
 *   written by installed() just before the restart into it), BOOTS_KEY its boots so
 *   far, CAUSE_KEY why it was reverted.
 * - Without BootSlots (memory targets) nothing is ever pending: state stays settled.
 */

import type { BootSlots, Log, Storage, TimerHandle, Timers } from "../ports";
import { KEY } from "../config/settings";

export enum TrialState {
	Settled = "settled",		// a confirmed image runs: nothing to do
	Pending = "pending",		// an update on trial, waiting for its first settled session
	Confirmed = "confirmed",	// the update confirmed itself on this boot
	RolledBack = "rolled-back",	// the previous image, back after a failed update; not reported yet
	Reverting = "reverting",	// the trial failed: the previous image is bootable, restart requested
}

export const MAX_TRIAL_BOOTS = 3;
export const { otaTrial: TRIAL_KEY, otaBoots: BOOTS_KEY, otaCause: CAUSE_KEY } = KEY;
const BOOTLOADER_CAUSE = "rebooted before confirming (the bootloader went back)";

export interface OtaTrialOptions {
	slots: BootSlots | undefined;
	storage: Storage;
	timers: Timers;
	log: Log;
	/** The version this boot runs. */
	runningVersion: string;
	confirmTimeout: number;
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
	readonly #o: OtaTrialOptions;

	constructor(options: OtaTrialOptions) {
		this.#o = options;
		const { slots, storage } = options;
		const trial = storage.get(TRIAL_KEY);
		this.#version = typeof trial === "string" ? trial : "";
		if (slots?.pending()) {
			this.#state = TrialState.Pending;
			this.#version ||= options.runningVersion;
		}
		else
			this.#state = slots && this.#version ? TrialState.RolledBack : TrialState.Settled;
	}

	get state(): TrialState { return this.#state; }
	/** "rollback" when this boot came back from a failed update, else undefined. */
	get bootReason(): string | undefined { return this.#state === TrialState.RolledBack ? "rollback" : undefined; }
	get pending(): boolean { return this.#state === TrialState.Pending || this.#state === TrialState.Reverting; }

	/** The device starts: a pending image counts this boot and gets its deadline. */
	start(): void {
		if (this.#state !== TrialState.Pending)
			return;
		const { storage, timers, log, confirmTimeout } = this.#o;
		const stored = storage.get(BOOTS_KEY);
		this.#boots = (typeof stored === "number" && stored >= 0 ? stored : 0) + 1;
		storage.set(BOOTS_KEY, this.#boots);
		if (this.#boots > MAX_TRIAL_BOOTS) {
			this.#timer = timers.set(() => this.#revert(`booted ${MAX_TRIAL_BOOTS} times without confirming`), 0);
			return;
		}
		log(`ota: ${this.#version} is on trial (boot ${this.#boots} of ${MAX_TRIAL_BOOTS}): confirming on the first settled session, else rollback in ${confirmTimeout} ms`);
		this.#timer = timers.set(() => this.#revert(`not confirmed within ${confirmTimeout} ms`), confirmTimeout);
	}

	/** An update was written and is about to boot on trial. */
	installed(version: string): void {
		const { storage } = this.#o;
		storage.set(TRIAL_KEY, version);
		storage.set(BOOTS_KEY, 0);
		storage.set(CAUSE_KEY, "");
	}

	/** The first session whose settle marker came back (called on every such session). */
	settled(): void {
		const { storage, log, publish } = this.#o;
		if (this.#state === TrialState.Pending) {
			storage.set(TRIAL_KEY, "");	// first: a crash before confirm() then retries the trial, not a false rollback report
			try {
				this.#o.slots!.confirm();
			}
			catch (error) {
				storage.set(TRIAL_KEY, this.#version);
				log(`ota: cannot confirm ${this.#version}: ${error}; the deadline still stands`);
				return;
			}
			this.#o.timers.clear(this.#timer);
			this.#timer = undefined;
			this.#state = TrialState.Confirmed;
			log(`ota: ${this.#version} confirmed`);
			publish(JSON.stringify({ state: TrialState.Confirmed, version: this.#version, boots: this.#boots }));
		}
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

	/** The device stops: the deadline goes with it (the next boot sets its own). */
	stop(): void {
		this.#o.timers.clear(this.#timer);
		this.#timer = undefined;
	}

	#revert(cause: string): void {
		const { storage, log, slots, restart } = this.#o;
		this.#timer = undefined;
		if (this.#state !== TrialState.Pending)
			return;
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
