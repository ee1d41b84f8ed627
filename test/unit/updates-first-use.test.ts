/*
 * Updates are built on first use (modules/app/updates/updates.ts): before the first
 * ota.start only the boot slots are opened, once, to read them; each ota.start that
 * passes its checks opens a target and a fetcher; a failed update lets go of both; an
 * image on trial keeps its slots until it confirms. The release follower is built by
 * the first release message, release.install or update progress, or at start-up on a
 * boot that rolled back; Home Assistant's entity reads the idle state until then.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Updates, type UpdatePorts } from "../../modules/app/updates/updates";
import { OtaState } from "../../modules/app/updates/request";
import { TrialState } from "../../modules/app/updates/trial";
import { nodeEcdsa } from "../../node/ecdsa";
import type { SessionEvents, SessionOptions } from "../../modules/app/ports";
import { FakeSession, FakeTime, MemoryStorage } from "./support/fakes";
import { KEY } from "../../modules/app/config/settings";
import { FakeFetcher, FakeHash, FakeSlots, FakeTarget, TEST_SIGNER, image } from "./support/ota-fakes";

const IMAGE = image(4_096);

/** A board's update target: where the image goes and the boot slots behind it. */
class BoardTarget extends FakeTarget {
	readonly slots: FakeSlots;
	constructor(pending: boolean) {
		super();
		this.slots = new FakeSlots(pending);
	}
	pending(): boolean { return this.slots.pending(); }
	confirm(): void { this.slots.confirm(); }
	revert(): void { this.slots.revert(); }
}

function setup(pending = false, storage = new MemoryStorage(), model = "lin") {
	const opened = { fetchers: 0, targets: 0 };
	const fetcher = new FakeFetcher();
	const targets: BoardTarget[] = [];
	const ports: UpdatePorts = {
		createFetcher: () => { opened.fetchers++; return fetcher; },
		createHash: () => new FakeHash(),
		openUpdateTarget: () => {
			opened.targets++;
			targets.push(new BoardTarget(pending));
			return targets.at(-1)!;
		},
		otaKey: TEST_SIGNER.spki,
		ecdsa: nodeEcdsa,
	};
	const time = new FakeTime();
	const updates = new Updates({
		ports, topic: "d/ota", firmwareVersion: "1.0.0", keyName: "ota-key.der", confirmTimeout: 60_000, confirmAfter: 1_000,
		storage, timers: time, log: () => {}, restart: () => {}, freeHeap: undefined, onSendFailed() {},
		fleet: { model, deviceId: "d", fleetPrefix: "fleet", releaseWindow: 0, random: () => 0 },
	});
	const session = new FakeSession({} as SessionOptions, {} as SessionEvents, 0);
	updates.attach(session);
	return { updates, opened, fetcher, targets, time, session };
}

const request = (version = "1.1.0") => {
	const fields = { model: "lin", version, size: IMAGE.bytes.length, sha256: IMAGE.sha256 };
	return { url: "https://h/fw.bin", ...fields, signature: TEST_SIGNER.sign(fields), force: false };
};

test("updates: nothing but the boot slots (opened once) exists before the first ota.start", () => {
	const s = setup();
	s.updates.start();
	assert.deepEqual(s.opened, { fetchers: 0, targets: 1 });
	assert.equal(s.updates.ota, undefined);
	assert.equal(s.updates.trial.state, TrialState.Settled);
});

test("updates: ota.start opens a target and a fetcher; a failed update lets go of the target, the next start opens a new one", () => {
	const s = setup();
	s.updates.start();
	s.updates.begin(request());
	assert.deepEqual(s.opened, { fetchers: 1, targets: 2 });
	assert.equal(s.updates.ota?.state, OtaState.Downloading);
	s.fetcher.last.respond(404, undefined);
	assert.equal(s.updates.ota?.state, OtaState.Failed);
	assert.equal(s.targets[1].count("cancel"), 1, "the failed update's target was cancelled");
	s.updates.begin(request());
	assert.deepEqual(s.opened, { fetchers: 2, targets: 3 }, "a fresh fetcher and target for the next update");
	s.fetcher.last.respond(200, IMAGE.bytes.length);
	s.fetcher.last.data(IMAGE.bytes);
	s.fetcher.last.done();
	assert.equal(s.updates.ota?.state, OtaState.Rebooting);
	assert.equal(s.targets[2].count("complete"), 1);
});

test("updates: a refused ota.start (bad signature) builds the state machine but opens nothing", () => {
	const s = setup();
	assert.throws(() => s.updates.begin({ ...request(), signature: "AAAA" }), /signature/);
	assert.deepEqual(s.opened, { fetchers: 0, targets: 1 });
	assert.equal(s.updates.ota?.state, OtaState.Idle);
});

test("updates: an image on trial confirms through the slots opened at boot, and reports on the ota topic", () => {
	const s = setup(true);
	s.updates.start();
	assert.equal(s.updates.trial.state, TrialState.Pending);
	s.updates.settled();
	s.updates.delivered();
	assert.equal(s.updates.trial.state, TrialState.Pending, "the session has not been up for confirmAfter yet");
	s.time.advance(1_000);
	assert.equal(s.updates.trial.state, TrialState.Confirmed);
	assert.deepEqual(s.opened, { fetchers: 0, targets: 1 });
	assert.deepEqual(s.targets[0].slots.calls, ["confirm"]);
	s.time.advance(100);
	assert.ok(s.session.on("d/ota").some(payload => payload.includes("\"confirmed\"")), JSON.stringify(s.session.published));
});

const IDLE_ENTITY = { installed_version: "1.0.0", latest_version: "1.0.0", in_progress: false, update_percentage: null };

test("updates: the release follower is built by the first release message, not at start-up; the entity reads idle until then", () => {
	const s = setup();
	s.updates.start();
	assert.equal(s.updates.releaseTopic, "fleet/lin/release");
	const before = s.updates.fleet;
	assert.equal(before, undefined, "nothing follows releases before one arrives");
	assert.deepEqual(JSON.parse(s.updates.entity!.state()), IDLE_ENTITY);
	const states: string[] = [];
	s.updates.entity!.watch(state => states.push(state));
	const { sha256 } = IMAGE;
	const fields = { model: "lin", version: "1.1.0", size: IMAGE.bytes.length, sha256 };
	s.updates.receiveRelease(JSON.stringify({ ...fields, url: "https://h/fw.bin", signature: TEST_SIGNER.sign(fields), rollout: 0 }));
	const follower = s.updates.fleet;
	assert.ok(follower, "built by the first release");
	assert.equal(JSON.parse(states.at(-1)!).latest_version, "1.1.0", "the entity listener reaches the follower built later");
	assert.equal(follower.latest?.version, "1.1.0");
});

test("updates: release.install or an update's progress builds the follower; without a model there is none", () => {
	const installing = setup();
	assert.throws(() => installing.updates.installRelease(), /no release/);
	assert.ok(installing.updates.fleet);
	const updating = setup();
	updating.updates.begin(request());
	assert.ok(updating.updates.fleet, "the entity shows an ota.start's progress too");
	assert.equal(JSON.parse(updating.updates.entity!.state()).in_progress, true);
	const unnamed = setup(false, new MemoryStorage(), "");
	unnamed.updates.receiveRelease("{}");
	assert.equal(unnamed.updates.entity, undefined);
	assert.equal(unnamed.updates.fleet, undefined);
	assert.equal(unnamed.updates.releaseTopic, undefined);
});

test("updates: a boot that rolled back builds the follower at start-up, which records the failed version", () => {
	const storage = new MemoryStorage();
	storage.set(KEY.otaTrial, "1.1.0");	// an update to 1.1.0 was on trial; the slots are not pending: it was reverted
	const s = setup(false, storage);
	assert.equal(s.updates.trial.rolledBack, "1.1.0");
	assert.ok(s.updates.fleet);
	assert.equal(storage.get(KEY.releaseFailed), "1.1.0");
});
