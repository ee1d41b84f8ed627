/*
 * The command lines `npm start` prints for the operator, kept true as the device changes.
 *
 * - commandHints(): watch, status and gpio lines for the broker on `port` (with the
 *   operator's login flags when the broker asks for one).
 * - updateHint(): the `npm run ota` line for the version the device runs: its version
 *   is one the device accepts (above the running one), so the line works as printed.
 *   npm start prints it at each birth with a new fw (after an update, a rollback).
 * - nextVersion(): the running version with its second part raised (1.0.0 -> 1.1.0),
 *   by the device's own ordering (modules/app/updates/request.ts compareVersions).
 */

import { compareVersions } from "../modules/app/updates/request";

export function commandHints(port: number, id: string, login: string): string[] {
	const flags = `--cafile .dev/pki/ca.pem${login ? ` ${login}` : ""} -h localhost -p ${port}`;
	return [
		`  watch:   mosquitto_sub ${flags} -t 'devices/#' -T 'devices/+/sync' -v`,
		`  command: mosquitto_pub ${flags} -t devices/${id}/cmd -m '{"id":"c-1","op":"status"}'`,
		`  gpio:    mosquitto_pub ${flags} -t devices/${id}/cmd -m '{"id":"c-2","op":"gpio.set","pin":"led","value":1}'`,
	];
}

/** The running version with its minor part raised and the rest dropped: always above it. */
export function nextVersion(running: string): string {
	const parts = running.split(".").map(part => Number.parseInt(part, 10)).map(n => Number.isFinite(n) ? n : 0);
	const next = `${parts[0] ?? 0}.${(parts[1] ?? 0) + 1}.0`;
	return compareVersions(next, running) > 0 ? next : `${next}.1`;
}

export function updateHint(id: string, running: string): string {
	return `update: npm run ota -- <image file> --device ${id} --version ${nextVersion(running)}   (${id} runs ${running}; a version not above it is refused E_VERSION)`;
}
