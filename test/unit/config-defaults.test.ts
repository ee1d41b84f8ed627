/*
 * The config defaults are written once, in config/config.ts's CONFIG_FIELDS; manifest.json's
 * `config` and the README's configuration table must say the same.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CONFIG_FIELDS, loadConfig } from "../../modules/app/config/config";

const ROOT = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", ROOT), "utf8"));
const readme = readFileSync(new URL("README.md", ROOT), "utf8");
const keys = Object.keys(CONFIG_FIELDS) as (keyof typeof CONFIG_FIELDS)[];

interface Row { keys: string[]; defaults: string; meaning: string }

/** The README's configuration table: one row per line `| keys | default | meaning |`. */
function readmeRows(): Row[] {
	const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
	const rows: Row[] = [];
	for (const line of section.split("\n")) {
		const cells = line.split("|").slice(1, -1).map(cell => cell.trim());
		if (cells.length !== 3 || !cells[0].startsWith("`"))
			continue;
		rows.push({ keys: [...cells[0].matchAll(/`([^`]+)`/g)].map(match => match[1]), defaults: cells[1], meaning: cells[2] });
	}
	return rows;
}

/** A README default cell of backticked values, one per key ("`1000`, `60000`"); `""` is empty. */
function backticked(cell: string): string[] {
	return [...cell.matchAll(/`([^`]*)`/g)].map(match => match[1] === '""' ? "" : match[1]);
}

test("config defaults: manifest.json's config has every key, each with the core's default", () => {
	// `tls` is the SDK's own cipher-suite switch, not a key of ours (test/unit/manifest.test.ts).
	assert.deepEqual(Object.keys(manifest.config).filter(key => key !== "tls").sort(), [...keys].sort());
	for (const key of keys)
		assert.equal(manifest.config[key], CONFIG_FIELDS[key].default, key);
});

test("config defaults: loadConfig applies the table's defaults", () => {
	const { config } = loadConfig({}, { defaultDeviceId: "fallback-id", wifiRequired: false });
	for (const key of keys) {
		const field = CONFIG_FIELDS[key];
		const expected = key === "deviceId" ? "fallback-id" : field.kind === "pins" ? {} : field.default;
		assert.deepEqual(config[key], expected, key);
	}
});

test("config defaults: the README's table lists every key once, with the core's default and range", () => {
	const rows = readmeRows();
	const listed = rows.flatMap(row => row.keys);
	assert.deepEqual([...listed].sort(), [...keys].sort(), "README keys");
	for (const row of rows) {
		const fields = row.keys.map(key => CONFIG_FIELDS[key as keyof typeof CONFIG_FIELDS]);
		if (row.keys[0] === "deviceId") {
			// Derived on the device: the core's default is empty, the link supplies the id.
			assert.equal(CONFIG_FIELDS.deviceId.default, "");
			assert.match(row.defaults, /from the MAC/);
			continue;
		}
		if (row.keys[0] === "outputs") {
			// The core's default is none; the manifest's platforms give each its LED.
			assert.equal(CONFIG_FIELDS.outputs.default, "");
			assert.equal(row.defaults, `\`${manifest.platforms.esp32.config.outputs}\` (esp32), \`${manifest.platforms.lin.config.outputs}\` (simulators)`);
			continue;
		}
		const defaults = backticked(row.defaults);
		const expected = fields.map(field => String(field.default));
		// One value stands for all keys of the row when they share it ("`ssid`, `password` | `""`").
		assert.deepEqual(defaults.length === 1 ? expected.map(() => defaults[0]) : defaults, expected, row.keys.join(", "));
		const range = /(\d+)\.\.(\d+)/.exec(row.meaning);
		for (const field of fields)
			if (range && field.kind === "integer")
				assert.deepEqual([field.min, field.max], [Number(range[1]), Number(range[2])], `${row.keys.join(", ")} range`);
	}
});
