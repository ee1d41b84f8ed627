/*
 * Ota: the over-the-air update state machine, one update at a time.
 *
 * - start() is the ota.start command (arguments validated by the command table; the
 *   platform's parts checked by updates.ts). It throws OtaRefused (the command layer
 *   names them on the wire): "unavailable" without a usable signing key (saying why),
 *   "busy" while an update runs, the running image is on trial (trial.ts) or free
 *   heap (where the platform tells) is below UPDATE_HEADROOM,
 *   "signature" unless the signature verifies (before anything is fetched), "version"
 *   for a version not above the running one unless `force`; otherwise it answers at
 *   once and the update goes on: downloading -> verifying -> applying -> rebooting, or
 *   failed from the first three.
 * - Built on first use: each start() that passes its checks opens the update target and
 *   a fetcher; the fetcher is dropped with its download, the target when the update
 *   fails (kept after complete(): the restart follows).
 * - downloading: GET through the Fetcher; the response is checked against the request
 *   (request.ts responseProblem) before target.begin(). Each chunk is hashed and
 *   written at once (synchronous, one chunk: telemetry and commands keep their turns).
 *   The DownloadWatchdog fails a download with no event for 30 s (E_STALL) and one
 *   whose body has not arrived 60 s + its size at 1 KB/s after the response
 *   (E_DEADLINE).
 * - cancel() is ota.cancel: a download fails with E_CANCELLED; refused "busy" while
 *   rebooting into an installed image, "idle" when no update runs.
 * - verifying: the SHA-256 of exactly the received bytes must equal the expected one;
 *   only then applying: target.complete(version) and trial.installed(version). Then
 *   rebooting is published and restart("ota") follows REBOOT_DELAY ms later (up to
 *   REBOOT_WAIT while progress still waits for the socket), so the message can leave.
 * - Every failure cancels the download and the target (the running image stays the one
 *   that boots; cancel() may come before begin()) and publishes failed with a stable
 *   OtaReason code and a message.
 * - Progress on the ota topic (progress.ts: its format and outbox) at every state
 *   change and whenever received crosses another tenth of total.
 * Limits: no resume of a cut download; a retry starts from byte 0.
 */

import type { Download, Fetcher, Hash, Log, TimerHandle, Timers, UpdateTarget } from "../ports";
import { OtaReason, OtaRefusal, OtaRefused, OtaState, compareVersions, responseProblem, type OtaCancelled, type OtaRequest, type OtaStarted } from "./request";
import { shortMessage, type UpdateProgress } from "./progress";
import { DownloadWatchdog, type OtaLimits } from "./watchdog";
import type { UpdateSignature } from "./signature";
import type { OtaTrial } from "./trial";

export { OtaReason, OtaRefusal, OtaRefused, OtaState } from "./request";
export type { OtaCancelled, OtaRequest, OtaStarted } from "./request";
export { DEADLINE_BASE, MIN_RATE, STALL_TIMEOUT, type OtaLimits } from "./watchdog";

export const REBOOT_DELAY = 500;		// ms between rebooting and the restart
export const REBOOT_WAIT = 5_000;		// ms the restart waits at most for progress still queued
export const UPDATE_HEADROOM = 38_912;	// bytes of free heap an update needs (measured: bench/README.md)

export interface OtaOptions {
	firmwareVersion: string;
	/** Builds the HTTPS fetcher for one download. */
	openFetcher: () => Fetcher;
	/** A fresh incremental SHA-256 per update. */
	createHash: () => Hash;
	/** Opens where an update is written (the inactive OTA partition on a board). */
	openTarget: () => UpdateTarget;
	/** Stops the device and restarts it (a board reboots into the new image). */
	restart: (reason: string) => void;
	/** The ota topic's messages. */
	progress: UpdateProgress;
	/** Checks each request's signature; its `problem` makes every start E_UNAVAILABLE. */
	signature: UpdateSignature;
	/** Boot confirmation: told of an installed image; no update while it is pending. */
	trial: Pick<OtaTrial, "pending" | "installed">;
	timers: Timers;
	log: Log;
	/** Shorter limits for tests (watchdog.ts has the defaults). */
	limits?: Partial<OtaLimits>;
	freeHeap?: () => number | undefined;	// bytes; undefined where the platform cannot tell (no check)
}

export class Ota {
	#state: OtaState = OtaState.Idle;
	#request: OtaRequest | undefined;
	#download: Download | undefined;	// set while the fetcher may still send events
	#target: UpdateTarget | undefined;	// from start() until the update fails
	#hash: Hash | undefined;
	#total: number | undefined;
	#received = 0;
	#tenth = 0;
	#installed: string | undefined;
	#reboot: TimerHandle | undefined;
	readonly #watchdog: DownloadWatchdog;
	readonly #o: OtaOptions;

	constructor(options: OtaOptions) {
		this.#o = options;
		this.#watchdog = new DownloadWatchdog({
			timers: options.timers, limits: options.limits,
			received: () => this.#received,
			onExpired: (reason, message) => this.#fail(reason, message),
		});
	}

	get state(): OtaState { return this.#state; }
	/** The version made bootable by complete(), until the restart. */
	get installed(): string | undefined { return this.#installed; }

	start(request: OtaRequest): OtaStarted {
		const { firmwareVersion, log, signature } = this.#o;
		if (signature.problem)
			throw new OtaRefused(OtaRefusal.Unavailable, signature.problem);
		if (this.#state !== OtaState.Idle && this.#state !== OtaState.Failed)
			throw new OtaRefused(OtaRefusal.Busy, `an update to ${this.#request?.version} is ${this.#state}`);
		if (this.#o.trial.pending)
			throw new OtaRefused(OtaRefusal.Busy, `the running ${firmwareVersion} is on trial until confirmed`);
		const free = this.#o.freeHeap?.();
		if (free !== undefined && free < UPDATE_HEADROOM)
			throw new OtaRefused(OtaRefusal.Busy, `free heap ${free} B is below the ${UPDATE_HEADROOM} B an update needs`);
		signature.check(request, request.signature);
		if (compareVersions(request.version, firmwareVersion) <= 0 && !request.force)
			throw new OtaRefused(OtaRefusal.Version, `version ${request.version} is not above the running ${firmwareVersion} (force:true installs it anyway)`);
		this.#request = request;
		this.#total = undefined;
		this.#received = 0;
		this.#tenth = 0;
		this.#hash = this.#o.createHash();
		this.#enter(OtaState.Downloading);
		log(`ota: ${firmwareVersion} -> ${request.version} from ${request.url}`);
		this.#watchdog.activity();
		const events = {
			onResponse: (status: number, length: number | undefined) => { if (this.#current(download)) this.#response(status, length); },
			onData: (chunk: ArrayBuffer) => { if (this.#current(download)) this.#data(chunk); },
			onDone: () => { if (this.#current(download)) this.#done(); },
			onError: (detail: string) => { if (this.#current(download)) this.#error(detail); },
		};
		let download: Download | undefined;
		if (!this.#onTarget(() => { this.#target = this.#o.openTarget(); }))
			return { state: this.#state, version: request.version };
		try {
			download = this.#o.openFetcher().get(request.url, events);
			this.#download = download;
		}
		catch (error) {
			this.#fail(OtaReason.Network, `cannot start the download: ${error}`);
		}
		return { state: this.#state, version: request.version };
	}

	/** The ota.cancel command: ends a running download, nothing becomes bootable. */
	cancel(): OtaCancelled {
		if (this.#state === OtaState.Rebooting)
			throw new OtaRefused(OtaRefusal.Busy, `the update to ${this.#installed} is installed; the device is rebooting`);
		if (this.#state !== OtaState.Downloading)
			throw new OtaRefused(OtaRefusal.Idle, "no update is running");
		const received = this.#received;
		this.#fail(OtaReason.Cancelled, `cancelled by command after ${received} bytes`);
		return { state: this.#state, version: this.#request?.version ?? null, received };
	}

	/** The device stops: a running download is abandoned (nothing becomes bootable). */
	stop(): void {
		if (this.#state === OtaState.Downloading)
			this.#fail(OtaReason.Aborted, "the device stopped during the download");
		this.#clearTimers();
	}

	#clearTimers(): void {
		this.#watchdog.stop();
		this.#o.timers.clear(this.#reboot);
		this.#reboot = undefined;
	}

	#current(download: Download | undefined): boolean {
		return this.#state === OtaState.Downloading && download !== undefined && download === this.#download;
	}

	#response(status: number, length: number | undefined): void {
		this.#watchdog.activity();
		const problem = responseProblem(status, length, this.#target!.capacity, this.#request!.size);
		if (problem)
			return this.#fail(problem.reason, problem.message);
		const total = length!;	// responseProblem() refuses a missing length
		this.#total = total;
		if (!this.#onTarget(() => this.#target!.begin(total)))
			return;
		this.#watchdog.response(total);
		this.#report(false);
	}

	#data(chunk: ArrayBuffer): void {
		this.#watchdog.activity();
		const total = this.#total;
		if (total === undefined)
			return this.#fail(OtaReason.Internal, "data before the response");
		if (this.#received + chunk.byteLength > total)
			return this.#fail(OtaReason.Length, `more than the announced ${total} bytes`);
		try {
			this.#hash!.update(chunk);
		}
		catch (error) {
			return this.#fail(OtaReason.Internal, `hashing failed: ${error}`);
		}
		if (!this.#onTarget(() => this.#target!.write(chunk)))
			return;
		this.#received += chunk.byteLength;
		const tenth = Math.floor(this.#received * 10 / total);
		if (tenth > this.#tenth) {
			this.#tenth = tenth;
			this.#report(false);
		}
	}

	#done(): void {
		this.#download = undefined;	// the fetcher is finished: nothing to cancel
		this.#clearTimers();
		const total = this.#total;
		if (total === undefined || this.#received < total)
			return this.#fail(OtaReason.Truncated, `the transfer ended after ${this.#received} of ${total ?? "?"} bytes`);
		this.#enter(OtaState.Verifying);
		let digest: string;
		try {
			digest = this.#hash!.hex().toLowerCase();
		}
		catch (error) {
			return this.#fail(OtaReason.Internal, `hashing failed: ${error}`);
		}
		if (digest !== this.#request!.sha256)
			return this.#fail(OtaReason.Hash, `sha256 ${digest.slice(0, 16)}... is not the expected ${this.#request!.sha256.slice(0, 16)}...`);
		this.#enter(OtaState.Applying);
		const version = this.#request!.version;
		if (!this.#onTarget(() => this.#target!.complete(version)))
			return;
		this.#installed = version;
		this.#o.trial.installed(version);
		this.#enter(OtaState.Rebooting);
		this.#rebootAfter(REBOOT_DELAY, REBOOT_WAIT);
	}

	#error(detail: string): void {
		this.#download = undefined;	// it ended by itself
		if (this.#total === undefined)
			this.#fail(OtaReason.Network, detail);
		else
			this.#fail(OtaReason.Truncated, `cut after ${this.#received} of ${this.#total} bytes: ${detail}`);
	}

	/** Restarts once the queued progress left, or `budget` ms from now at the latest. */
	#rebootAfter(delay: number, budget: number): void {
		this.#reboot = this.#o.timers.set(() => {
			this.#reboot = undefined;
			if (this.#o.progress.outbox.waiting > 0 && budget > delay)
				return this.#rebootAfter(Math.min(delay, budget - delay), budget - delay);
			this.#o.log(`ota: restarting into ${this.#installed}`);
			this.#o.restart!("ota");
		}, delay);
	}

	/** Runs one target call; a throw fails the update (E_TARGET) and returns false. */
	#onTarget(call: () => void): boolean {
		try {
			call();
			return true;
		}
		catch (error) {
			this.#fail(OtaReason.Target, `update target: ${error}`);
			return false;
		}
	}

	#fail(reason: OtaReason, message: string): void {
		const { log } = this.#o;
		const target = this.#target;
		this.#target = undefined;
		this.#clearTimers();
		const download = this.#download;
		this.#download = undefined;
		try { download?.cancel(); } catch (error) { log(`ota: cancelling the download failed: ${error}`); }
		try { target?.cancel(); } catch (error) { log(`ota: cancelling the target failed: ${error}`); }
		this.#hash = undefined;
		const text = shortMessage(message);
		log(`ota: failed ${reason}: ${text}`);
		this.#enter(OtaState.Failed, { code: reason, message: text });
	}

	#enter(state: OtaState, error?: { code: OtaReason; message: string }): void {
		this.#state = state;
		if (state !== OtaState.Failed && state !== OtaState.Downloading)
			this.#o.log(`ota: ${state}`);
		this.#report(true, error);
	}

	/** Queues a progress message: a state change waits in line, a download step is latest-wins. */
	#report(change: boolean, error?: { code: OtaReason; message: string }): void {
		const fields = { state: this.#state, version: this.#request?.version ?? null, received: this.#received, total: this.#total ?? null };
		if (change)
			this.#o.progress.change(fields, error);
		else
			this.#o.progress.step(fields);
	}
}
