/*
 * Where a fleet stands with one release, from what the broker shows an operator: the
 * retained release, the devices' retained births (`fw`, `model`) and their `ota`
 * progress messages (not retained: only those seen while watching count).
 *
 * - FleetView.feed(topic, payload) takes `<prefix>/<id>/status`, `<prefix>/<id>/ota`
 *   and the release topic; everything else is ignored, as is anything not JSON.
 * - summary(): the model's devices (births naming it) by running version and by where
 *   they are with the release: updated (runs it), downloading (downloading, verifying,
 *   applying, rebooting), scheduled, failed, rolled back, ignored (the device refused
 *   the release), waiting (in the rollout, nothing heard yet), not in the rollout.
 *   A failure (other than E_CANCELLED: a halt or a newer release) or rollback of the
 *   release's version sticks to the device until it runs that version. The current stage is the devices with stageFrom <= bucket < rollout
 *   (stageFrom: the rollout before this one, which `npm run release -- publish` writes
 *   into the release); `failedShare` is the stage's failed and rolled-back devices over
 *   its size (0 for an empty stage).
 */

import { bucketOf } from "../modules/app/updates/release";

export interface PublishedRelease {
	model: string;
	version: string;
	size: number;
	sha256: string;
	url: string;
	signature: string;
	rollout: number;
	stageFrom?: number;		// the previous stage's rollout (operator tool's field; devices ignore it)
}

export type Standing = "updated" | "downloading" | "scheduled" | "failed" | "rolled-back" | "ignored" | "waiting" | "not-in-rollout";
export const STANDINGS: readonly Standing[] = ["updated", "downloading", "scheduled", "failed", "rolled-back", "ignored", "waiting", "not-in-rollout"];
const DOWNLOADING = ["downloading", "verifying", "applying", "rebooting"];

interface DeviceRecord {
	fw?: string;
	model?: string;
	online?: boolean;
	version?: string;		// the last ota message's version and state
	state?: string;
	failed?: { version: string; state: "failed" | "rolled-back" };	// sticks until that version runs
}

export interface Summary {
	release: PublishedRelease | undefined;
	devices: number;
	running: Record<string, number>;
	standing: Record<Standing, number>;
	stage: { from: number; to: number; devices: number; failed: number };
	failedShare: number;	// 0..1
}

export class FleetView {
	readonly #devices = new Map<string, DeviceRecord>();
	#release: PublishedRelease | undefined;

	constructor(readonly prefix: string, readonly model: string, readonly releaseTopic: string) {}

	get release(): PublishedRelease | undefined { return this.#release; }

	feed(topic: string, payload: string): void {
		let message: Record<string, unknown>;
		try {
			message = payload ? JSON.parse(payload) : {};
		}
		catch {
			return;
		}
		if (topic === this.releaseTopic) {
			this.#release = payload ? message as unknown as PublishedRelease : undefined;
			return;
		}
		const parts = topic.slice(this.prefix.length + 1).split("/");
		if (!topic.startsWith(this.prefix + "/") || parts.length !== 2 || typeof message !== "object" || message === null)
			return;
		const record = this.#devices.get(parts[0]) ?? {};
		this.#devices.set(parts[0], record);
		if (parts[1] === "status") {
			record.online = message.online === true;
			if (typeof message.fw === "string")
				record.fw = message.fw;
			if (typeof message.model === "string")
				record.model = message.model;
		}
		else if (parts[1] === "ota" && typeof message.state === "string" && typeof message.version === "string") {
			const { state, version } = message;
			record.version = version;
			record.state = state;
			const code = (message.error as { code?: string } | undefined)?.code;
			// A download the operator's halt or a newer release cancelled is not the image's failure.
			if ((state === "failed" && code !== "E_CANCELLED") || state === "rolled-back")
				record.failed = { version, state };
		}
	}

	summary(): Summary {
		const release = this.#release;
		const standing = Object.fromEntries(STANDINGS.map(name => [name, 0])) as Record<Standing, number>;
		const running: Record<string, number> = {};
		const stage = { from: release?.stageFrom ?? 0, to: release?.rollout ?? 0, devices: 0, failed: 0 };
		let devices = 0;
		for (const [id, record] of this.#devices) {
			if (record.model !== this.model)
				continue;
			devices++;
			running[record.fw ?? "?"] = (running[record.fw ?? "?"] ?? 0) + 1;
			if (!release)
				continue;
			const bucket = bucketOf(id);
			const where = standingOf(record, release, bucket);
			standing[where]++;
			if (bucket >= stage.from && bucket < stage.to) {
				stage.devices++;
				if (where === "failed" || where === "rolled-back")
					stage.failed++;
			}
		}
		return { release, devices, running, standing, stage, failedShare: stage.devices ? stage.failed / stage.devices : 0 };
	}
}

function standingOf(record: DeviceRecord, release: PublishedRelease, bucket: number): Standing {
	if (record.fw === release.version)
		return "updated";
	if (record.failed?.version === release.version)
		return record.failed.state;
	if (record.version === release.version && record.state) {
		if (DOWNLOADING.includes(record.state))
			return "downloading";
		if (record.state === "scheduled" || record.state === "ignored")
			return record.state;
	}
	return bucket < release.rollout ? "waiting" : "not-in-rollout";
}

export function formatSummary(summary: Summary, model: string): string {
	const { release, running, standing, stage } = summary;
	if (!release)
		return `no release for ${model} (${summary.devices} devices)`;
	const versions = Object.entries(running).map(([version, count]) => `${version} ${count}`).join(", ");
	return [
		`release ${release.version} for ${model}: rollout ${release.rollout}%, ${summary.devices} devices`,
		`  running: ${versions || "none seen"}`,
		`  ${STANDINGS.map(name => `${name} ${standing[name]}`).join(", ")}`,
		`  stage ${stage.from}..${stage.to}%: ${stage.devices} devices, ${stage.failed} failed or rolled back (${(summary.failedShare * 100).toFixed(1)}%)`,
	].join("\n");
}
