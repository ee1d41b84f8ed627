/*
 * FleetUpdates: follows the retained release of the device's model and installs it
 * when the device's turn comes.
 *
 * - receive(payload): a message on the release topic (release.ts releaseTopic). An
 *   empty one (the release deleted) withdraws it: a waiting install is dropped and a
 *   download it started is cancelled. A payload equal to the last one handled does
 *   nothing (the broker sends the retained release on every connect). Otherwise it is
 *   checked: parseRelease, then the model (E_MODEL), the signature over the same ota2
 *   statement as ota.start (E_SIGNATURE), the version (E_VERSION when not above the
 *   running one, or when this version failed here before). A refusal is one trace line
 *   and {"state":"ignored","version","error":{code,message}} on the ota topic (code: the
 *   release's ReleaseFault, or the refusal's wire code from REFUSAL_CODES); the
 *   device goes on. An accepted release becomes `latest` (Home Assistant's latest
 *   version).
 * - A device whose bucket (bucketOf(id)) is below the release's rollout installs it
 *   after releaseDelay(window) ms ({"state":"scheduled","version","delay"} on the ota
 *   topic), through Ota.start exactly as an ota.start command; Ota's refusal then
 *   (busy, on trial) is reported as ignored, and the next connect tries again.
 * - A release that changes while its download runs: another image (model, version,
 *   size, sha256 or url differ) cancels that download (E_CANCELLED) before the new one
 *   is scheduled; the same image with a rollout that leaves this device out (a halt)
 *   cancels it too. Ota holds each download to its own signed request, so what becomes
 *   bootable is always exactly one signed image.
 * - install(): the release.install command: the latest accepted release now, whatever
 *   the bucket (throws OtaRefused: "idle" without one, "version" when not above).
 * - The version of a release download that failed here, or of an update that rolled
 *   back (`rolledBack` at construction), is kept in Storage (KEY.releaseFailed) and
 *   refused from then on; release.install still installs it (the owner's choice).
 * - progress() is told every Ota progress report; state() is the Home Assistant update
 *   entity's JSON (installed_version, latest_version, in_progress, update_percentage),
 *   handed to the watch() listener whenever it changes.
 * Limits: one release topic (the device's model); a halt cannot stop an image already
 * verified and being installed.
 */

import type { Log, Storage, TimerHandle, Timers } from "../ports";
import { KEY } from "../config/settings";
import { OtaRefusal, OtaRefused, REFUSAL_CODES, compareVersions, type OtaRequest, type OtaStarted, type RefusalCode } from "./request";
import type { UpdateSignature } from "./signature";
import type { ProgressFields } from "./progress";
import { bucketOf, isProblem, parseRelease, releaseDelay, type Release, type ReleaseFault } from "./release";

/** What FleetUpdates needs of the update machine (ota.ts). */
export interface UpdateRunner {
	readonly state: string;
	start(request: OtaRequest): OtaStarted;
	cancel(): unknown;
}

export interface FleetOptions {
	deviceId: string;
	model: string;
	firmwareVersion: string;
	/** ms: the random delay before an install is below this. */
	window: number;
	random: () => number;
	signature: Pick<UpdateSignature, "check">;
	ota: UpdateRunner;
	storage: Storage;
	timers: Timers;
	log: Log;
	/** Queues one message on the ota topic. */
	report(payload: string): void;
	/** The version whose update rolled back on this boot (OtaTrial), if any. */
	rolledBack?: string;
}

const RUNNING: readonly string[] = Object.freeze(["downloading", "verifying", "applying", "rebooting"]);
const IDLE = Object.freeze({ state: "idle", percent: null });

export class FleetUpdates {
	readonly bucket: number;
	#latest: Release | undefined;		// the last release accepted
	#handled: string | undefined;		// its payload, or a refused one's
	#scheduled: TimerHandle | undefined;
	#started: Release | undefined;		// the release whose download Ota runs
	#progress = { state: "idle", percent: null as number | null };
	#listener: ((state: string) => void) | undefined;
	readonly #o: FleetOptions;

	constructor(options: FleetOptions) {
		this.#o = options;
		this.bucket = bucketOf(options.deviceId);
		if (options.rolledBack)
			options.storage.set(KEY.releaseFailed, options.rolledBack);
	}

	get latest(): Release | undefined { return this.#latest; }
	get scheduled(): boolean { return this.#scheduled !== undefined; }

	receive(payload: string): void {
		if (payload === this.#handled)
			return;
		this.#handled = payload;
		if (payload === "")
			return this.#withdraw();
		const parsed = parseRelease(payload);
		if (isProblem(parsed))
			return this.#ignore(parsed.version, parsed.fault, parsed.message);
		const { model, firmwareVersion, signature, log } = this.#o;
		if (parsed.model !== model)
			return this.#ignore(parsed.version, REFUSAL_CODES[OtaRefusal.Model], `release for model ${parsed.model}; this device is ${model}`);
		try {
			signature.check(parsed, parsed.signature);
		}
		catch (error) {
			return this.#ignore(parsed.version, refusalCode(error, OtaRefusal.Signature), String((error as Error)?.message ?? error));
		}
		this.#latest = parsed;
		this.#publishState();
		const running = this.#startedRunning();
		if (running && !sameImage(running, parsed))
			this.#cancelDownload(`superseded by release ${parsed.version}`);
		if (compareVersions(parsed.version, firmwareVersion) <= 0)
			return this.#ignore(parsed.version, REFUSAL_CODES[OtaRefusal.Version], `release ${parsed.version} is not above the running ${firmwareVersion}`);
		if (this.#o.storage.get(KEY.releaseFailed) === parsed.version)
			return this.#ignore(parsed.version, REFUSAL_CODES[OtaRefusal.Version], `release ${parsed.version} failed on this device before`);
		this.#o.timers.clear(this.#scheduled);
		this.#scheduled = undefined;
		if (this.bucket >= parsed.rollout) {
			if (this.#startedRunning())
				this.#cancelDownload(`release ${parsed.version} halted at rollout ${parsed.rollout}%`);
			log(`fleet: release ${parsed.version} at ${parsed.rollout}%, not yet for bucket ${this.bucket}`);
			return;
		}
		if (this.#startedRunning())
			return;	// the same image is already on its way
		const delay = releaseDelay(this.#o.window, this.#o.random);
		log(`fleet: release ${parsed.version} at ${parsed.rollout}% includes bucket ${this.bucket}: installing in ${delay} ms`);
		this.#o.report(JSON.stringify({ state: "scheduled", version: parsed.version, delay }));
		this.#scheduled = this.#o.timers.set(() => {
			this.#scheduled = undefined;
			this.#install(parsed);
		}, delay);
	}

	/** The release.install command: the latest release now, whatever the bucket. */
	install(): OtaStarted {
		const release = this.#latest;
		if (!release)
			throw new OtaRefused(OtaRefusal.Idle, `no release for model ${this.#o.model} has been seen`);
		if (compareVersions(release.version, this.#o.firmwareVersion) <= 0)
			throw new OtaRefused(OtaRefusal.Version, `release ${release.version} is not above the running ${this.#o.firmwareVersion}`);
		this.#o.timers.clear(this.#scheduled);
		this.#scheduled = undefined;
		const started = this.#o.ota.start(request(release));
		this.#started = release;
		return started;
	}

	/** Ota's progress: the entity state, and the failed release version kept. */
	progress({ state, version, received, total }: ProgressFields): void {
		if (state === "failed" && this.#started && version === this.#started.version) {
			this.#o.storage.set(KEY.releaseFailed, this.#started.version);
			this.#started = undefined;
		}
		this.#progress = { state, percent: state === "downloading" && total ? Math.floor(received * 100 / total) : null };
		this.#publishState();
	}

	/** Home Assistant's update entity (entityState). */
	state(): string {
		return entityState(this.#o.firmwareVersion, this.#latest?.version, this.#progress);
	}

	/** Tells `listener` every new state() (the Home Assistant update entity). */
	watch(listener: (state: string) => void): void {
		this.#listener = listener;
	}

	stop(): void {
		this.#o.timers.clear(this.#scheduled);
		this.#scheduled = undefined;
	}

	#install(release: Release): void {
		try {
			this.#o.ota.start(request(release));
			this.#started = release;
		}
		catch (error) {
			this.#handled = undefined;	// the next connect (the retained release again) retries
			this.#ignore(release.version, refusalCode(error, OtaRefusal.Unavailable), String((error as Error)?.message ?? error));
		}
	}

	#withdraw(): void {
		this.#o.log("fleet: the release was withdrawn");
		this.stop();
		this.#latest = undefined;
		if (this.#startedRunning())
			this.#cancelDownload("the release was withdrawn");
		this.#publishState();
	}

	#startedRunning(): Release | undefined {
		return this.#started && this.#o.ota.state === "downloading" ? this.#started : undefined;
	}

	#cancelDownload(why: string): void {
		this.#o.log(`fleet: cancelling the download of ${this.#started?.version}: ${why}`);
		this.#started = undefined;
		this.#o.ota.cancel();
	}

	#ignore(version: string | null, code: ReleaseFault | RefusalCode, message: string): void {
		this.#o.log(`fleet: release ${version ?? "?"} ignored: ${code} ${message}`);
		this.#o.report(JSON.stringify({ state: "ignored", version, error: { code, message: message.slice(0, 120) } }));
	}

	#publishState(): void {
		this.#listener?.(this.state());
	}
}

/** An update refusal's wire code; anything else thrown counts as `otherwise`. */
function refusalCode(error: unknown, otherwise: OtaRefusal): RefusalCode {
	return REFUSAL_CODES[error instanceof OtaRefused ? error.refusal : otherwise];
}

/**
 * Home Assistant's update entity state: {installed_version, latest_version, in_progress,
 * update_percentage}, only keys its MQTT update platform reads (latest is the
 * installed version unless a release above it was seen; the percentage is null
 * outside a download).
 */
export function entityState(installed: string, latest: string | undefined, progress: { state: string; percent: number | null } = IDLE): string {
	const shown = latest !== undefined && compareVersions(latest, installed) > 0 ? latest : installed;
	const inProgress = RUNNING.includes(progress.state);
	return JSON.stringify({ installed_version: installed, latest_version: shown, in_progress: inProgress, update_percentage: inProgress ? progress.percent : null });
}

function request(release: Release): OtaRequest {
	const { url, model, sha256, version, size, signature } = release;
	return { url, model, sha256, version, size, signature, force: false };
}

function sameImage(a: Release, b: Release): boolean {
	return a.model === b.model && a.version === b.version && a.size === b.size && a.sha256 === b.sha256 && a.url === b.url;
}
