/*
 * The Home Assistant update entity against what Home Assistant's MQTT update platform
 * reads (homeassistant/components/mqtt/update.py and its tests,
 * tests/components/mqtt/test_update.py, in home-assistant/core):
 * - the state topic's JSON is checked by MQTT_JSON_UPDATE_SCHEMA before anything is
 *   taken from it: only installed_version, latest_version, title, release_summary,
 *   release_url, entity_picture (strings), in_progress (a boolean) and
 *   update_percentage (a number 0..100, or null) are allowed; one bad key or value
 *   ("update_percentage":101 in its test) drops the whole message with a warning.
 * - update_percentage sets in_progress to "not null"; an in_progress key read after it
 *   overrides that (so {"in_progress":true,"update_percentage":null} is an install
 *   without a percentage).
 * - the discovery options of the platform (PLATFORM_SCHEMA_MODERN plus the state
 *   topic and the entity options every MQTT entity takes) under their documented
 *   abbreviations; payload_install is published on command_topic, not retained.
 * Every state the device publishes while a release is seen, downloaded, verified,
 * applied, failed and withdrawn is checked against that model.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MODEL, ready } from "./support/command-device";
import { TEST_SIGNER, image } from "./support/ota-fakes";

const RELEASE = "fleet/test-board/release";
const UPDATE = "devices/node-1/update";
const CONFIG = "homeassistant/update/node-1/update/config";	// the update platform's discovery topic
const { bytes: IMAGE, sha256: SHA } = image(20_000);

const STRING_KEYS: readonly string[] = ["installed_version", "latest_version", "title", "release_summary", "release_url", "entity_picture"];
const STATE_KEYS: readonly string[] = [...STRING_KEYS, "in_progress", "update_percentage"];

/** The discovery options the update platform takes, by abbreviation (abbreviations.py). */
const UPDATE_OPTIONS: Readonly<Record<string, string>> = {
	p: "platform", name: "name", uniq_id: "unique_id", stat_t: "state_topic", val_tpl: "value_template",
	cmd_t: "command_topic", pl_inst: "payload_install", dev_cla: "device_class", ent_cat: "entity_category",
	ent_pic: "entity_picture", l_ver_t: "latest_version_topic", l_ver_tpl: "latest_version_template",
	rel_s: "release_summary", rel_u: "release_url", tit: "title", dsp_prc: "display_precision", ret: "retain", qos: "qos",
	// what every MQTT entity takes (MQTT_ENTITY_COMMON_SCHEMA, MQTT_AVAILABILITY_SCHEMA)
	dev: "device", o: "origin", avty_t: "availability_topic", avty_tpl: "availability_template",
};

interface Entity { installed_version?: unknown; latest_version?: unknown; in_progress?: unknown; update_percentage?: unknown }

/** Why Home Assistant would drop this state message (its JSON schema), or undefined. */
function schemaViolation(payload: string): string | undefined {
	const state = JSON.parse(payload) as Record<string, unknown>;
	for (const [key, value] of Object.entries(state)) {
		if (!STATE_KEYS.includes(key))
			return `extra key ${key}`;
		if (STRING_KEYS.includes(key) && typeof value !== "string")
			return `${key} must be a string, is ${JSON.stringify(value)}`;
		if (key === "in_progress" && typeof value !== "boolean")
			return `in_progress must be a boolean`;
		if (key === "update_percentage" && value !== null && !(typeof value === "number" && value >= 0 && value <= 100))
			return `update_percentage ${value} is not null or 0..100`;
	}
	return undefined;
}

/** The entity after Home Assistant took a valid state message, in its order. */
function apply(entity: Entity, payload: string): Entity {
	const state = JSON.parse(payload) as Record<string, unknown>;
	const next = { ...entity };
	for (const key of ["installed_version", "latest_version"] as const)
		if (Object.hasOwn(state, key))
			next[key] = state[key];
	if (Object.hasOwn(state, "update_percentage")) {
		next.update_percentage = state.update_percentage;
		next.in_progress = state.update_percentage !== null;
	}
	if (Object.hasOwn(state, "in_progress"))
		next.in_progress = state.in_progress;
	return next;
}

function release(fields: Record<string, unknown> = {}): string {
	const body = { model: MODEL, version: "1.1.0", size: IMAGE.length, sha256: SHA, url: "https://fw.example.com/1.1.0.bin", rollout: 0, ...fields };
	return JSON.stringify({ ...body, signature: TEST_SIGNER.sign(body) });
}

function entityDevice() {
	const s = ready({ raw: { haDiscovery: "true", releaseWindow: "0" } });
	const states = () => s.transport.sessions.flatMap(session => session.published.filter(m => m.topic === UPDATE));
	/** Every state published so far passes the schema; the entity Home Assistant shows. */
	const entity = (): Entity => states().reduce((shown: Entity, message) => {
		assert.equal(message.retain, true, "retained: Home Assistant reads it when it subscribes");
		assert.equal(schemaViolation(message.payload), undefined, message.payload);
		return apply(shown, message.payload);
	}, {});
	return { s, states, entity };
}

test("ha-update: the discovery component uses only options of Home Assistant's update platform, and Install is a command the device takes", () => {
	const { s } = entityDevice();
	const component = JSON.parse(s.transport.last.published.find(m => m.topic === CONFIG)!.payload) as Record<string, string>;
	for (const key of Object.keys(component))
		assert.ok(Object.hasOwn(UPDATE_OPTIONS, key), `${key} is not an option of the update platform`);
	assert.equal(component.dev_cla, "firmware");
	assert.equal(component.ent_cat, "config");
	assert.equal(component.stat_t, UPDATE);
	assert.equal(component.cmd_t, "devices/node-1/cmd", "Install without command_topic is not offered");
	// Home Assistant publishes payload_install as it is, not retained, without an id.
	s.transport.last.message(RELEASE, release(), true);
	s.transport.last.message(component.cmd_t, component.pl_inst);
	const answer = JSON.parse(s.transport.last.on("devices/node-1/cmd/result").at(-1)!);
	assert.deepEqual(answer, { id: null, ok: true, state: "downloading", version: "1.1.0" });
});

test("ha-update: every state through an install passes Home Assistant's schema and shows installed, latest and progress", () => {
	const { s, states, entity } = entityDevice();
	assert.deepEqual(entity(), { installed_version: "1.0.0", latest_version: "1.0.0", in_progress: false, update_percentage: null });
	s.transport.last.message(RELEASE, release(), true);
	assert.deepEqual(entity(), { installed_version: "1.0.0", latest_version: "1.1.0", in_progress: false, update_percentage: null }, "an update is available");
	s.send({ id: "i", op: "release.install" });
	assert.equal(entity().in_progress, true);
	s.fetcher!.last.respond(200, IMAGE.length);
	s.fetcher!.last.stream(IMAGE.subarray(0, 10_000), 10_000);
	assert.deepEqual(entity(), { installed_version: "1.0.0", latest_version: "1.1.0", in_progress: true, update_percentage: 50 });
	s.fetcher!.last.stream(IMAGE.subarray(10_000), 10_000);
	assert.equal(entity().update_percentage, 100);
	const before = states().length;
	s.fetcher!.last.done();
	assert.ok(states().length > before, "verifying, applying, rebooting are published");
	assert.deepEqual(entity(), { installed_version: "1.0.0", latest_version: "1.1.0", in_progress: true, update_percentage: null }, "installing, without a percentage");
});

test("ha-update: a failed download and a withdrawn release end the progress; the states stay valid", () => {
	const { s, entity } = entityDevice();
	s.transport.last.message(RELEASE, release(), true);
	s.send({ id: "i", op: "release.install" });
	s.fetcher!.last.respond(404, undefined);
	assert.deepEqual(entity(), { installed_version: "1.0.0", latest_version: "1.1.0", in_progress: false, update_percentage: null });
	s.transport.last.message(RELEASE, "", true);
	assert.deepEqual(entity(), { installed_version: "1.0.0", latest_version: "1.0.0", in_progress: false, update_percentage: null }, "no release: up to date");
});

test("ha-update: the model of Home Assistant's schema refuses what Home Assistant refuses", () => {
	assert.match(schemaViolation("{\"update_percentage\":101}")!, /0\.\.100/);
	assert.match(schemaViolation("{\"latest_version\":null}")!, /string/);
	assert.match(schemaViolation("{\"state\":\"downloading\"}")!, /extra key/);
	assert.equal(schemaViolation("{\"update_percentage\":null,\"in_progress\":true}"), undefined);
	assert.deepEqual(apply({}, "{\"update_percentage\":null,\"in_progress\":true}"), { update_percentage: null, in_progress: true });
});
