/*
 * The core's layout (modules/app/, see its README.md): feature folders whose imports
 * run one way, each with its header and its manifest fragment; no file over 300 lines.
 *
 * - LAYERS: which folders each folder may import ("" is the shared root: ports,
 *   limits, describe, random, version, simulated-sensor). device.ts composes and may
 *   import every folder's public modules; nothing in the core imports device.ts.
 * - PUBLIC: the modules of each folder that code outside it may import (main.ts,
 *   node/, tools/, modules/<adapter>/, modules/board/, another folder); the rest are
 *   the folder's insides. Tests may import insides.
 * - Every folder's manifest.json preloads exactly its .ts modules, by name.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const APP = join(ROOT, "modules/app");
const MAX_LINES = 300;

const LAYERS: Record<string, string[]> = {
	"": [],
	"connection": [""],
	"config": ["", "connection"],
	"updates": ["", "connection", "config"],
	"commands": ["", "connection", "config", "updates"],
	"home-assistant": ["", "connection", "config"],
};

const PUBLIC: Record<string, string[]> = {
	"": ["ports", "limits", "describe", "random", "version", "simulated-sensor", "device"],
	"connection": ["connection", "backoff", "telemetry", "topics", "outbox"],
	"config": ["config", "settings"],
	"commands": ["table", "channel", "result", "gpio"],
	"updates": ["updates", "ota", "request", "signature", "trial"],
	"home-assistant": ["home-assistant"],
};

function files(dir: string, extension = ".ts"): string[] {
	return readdirSync(dir).flatMap(name => {
		const path = join(dir, name);
		if (name === "node_modules" || name.startsWith("."))
			return [];
		return statSync(path).isDirectory() ? files(path, extension) : path.endsWith(extension) ? [path] : [];
	});
}

function specifiers(path: string): string[] {
	const source = readFileSync(path, "utf8");
	return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map(match => match[1]);
}

/** The core module an import names, as [folder, module], or undefined when it is not the core. */
function coreModule(from: string, specifier: string): [string, string] | undefined {
	let path: string;
	if (specifier.startsWith("app/"))
		path = join(APP, specifier.slice(4));
	else if (specifier.startsWith("."))
		path = resolve(dirname(from), specifier);
	else
		return undefined;
	const inApp = relative(APP, path);
	if (inApp.startsWith(".."))
		return undefined;
	const parts = inApp.split("/");
	return parts.length === 1 ? ["", parts[0]] : [parts[0], parts.slice(1).join("/")];
}

const folderOf = (path: string) => {
	const parts = relative(APP, path).split("/");
	return parts.length === 1 ? "" : parts[0];
};

test("the core's folders are the ones LAYERS names, each with its README.md and manifest.json", () => {
	const folders = readdirSync(APP).filter(name => statSync(join(APP, name)).isDirectory()).sort();
	assert.deepEqual(folders, Object.keys(LAYERS).filter(Boolean).sort());
	for (const folder of ["", ...folders]) {
		assert.ok(statSync(join(APP, folder, "README.md")).isFile(), `${folder || "modules/app"}: README.md`);
		const manifest = JSON.parse(readFileSync(join(APP, folder, "manifest.json"), "utf8"));
		const modules = readdirSync(join(APP, folder)).filter(name => name.endsWith(".ts")).map(name => `app/${folder ? folder + "/" : ""}${name.slice(0, -3)}`);
		assert.deepEqual([...manifest.preload].sort(), modules.sort(), `${folder || "modules/app"}/manifest.json preloads every module by name`);
	}
});

test("imports inside the core run one way and stay on public modules across folders", () => {
	const problems: string[] = [];
	for (const path of files(APP)) {
		const folder = folderOf(path);
		const name = relative(APP, path);
		for (const specifier of specifiers(path)) {
			const target = coreModule(path, specifier);
			if (!target) {
				problems.push(`${name}: imports "${specifier}" (the core imports only itself)`);
				continue;
			}
			const [to, module] = target;
			if (to === folder && module !== "device")
				continue;
			if (module === "device" && to === "")
				problems.push(`${name}: imports device (device.ts composes; nothing imports it)`);
			else if (name !== "device.ts" && !LAYERS[folder].includes(to))
				problems.push(`${name}: imports ${to}/${module} (${folder || "the root"} may import ${LAYERS[folder].map(f => f || "the root").join(", ") || "nothing"})`);
			else if (!PUBLIC[to]?.includes(module))
				problems.push(`${name}: imports ${to}/${module}, inside ${to}`);
		}
	}
	assert.deepEqual(problems, []);
});

test("code outside the core imports only its public modules", () => {
	const outside = [join(ROOT, "main.ts"), ...["node", "tools", "bench", "types", "modules"].flatMap(dir => files(join(ROOT, dir)))]
		.filter(path => !path.startsWith(APP + "/"));
	const problems: string[] = [];
	for (const path of outside)
		for (const specifier of specifiers(path)) {
			const target = coreModule(path, specifier);
			if (target && !PUBLIC[target[0]]?.includes(target[1]))
				problems.push(`${relative(ROOT, path)}: imports ${target.join("/")}, inside the core's ${target[0]}`);
		}
	assert.deepEqual(problems, []);
});

test(`no module under modules/ is over ${MAX_LINES} lines`, () => {
	const long = files(join(ROOT, "modules")).map(path => [relative(ROOT, path), readFileSync(path, "utf8").split("\n").length - 1] as const)
		.filter(([, lines]) => lines > MAX_LINES);
	assert.deepEqual(long, []);
});
