/*
 * How `npm start` sets its device up: through setup mode, with the same POST /settings
 * an owner's phone or `npm run provision` sends, so the live view shows the whole
 * flow (setup line, request, restart, birth) on every start.
 *
 * - The device starts fresh each time (a factory reset: the broker's port changes from
 *   run to run), from the fleet image's config: no broker, no id.
 * - With `--setup` the request is not sent: the setup URL and code are printed for a
 *   person to open the page; the device comes online once the form is submitted.
 * - Simulator: the setup line is read from the device's console; Node: the setup server
 *   is node/setup-server.ts in this process.
 */

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { provision, type Settings } from "./provision";

export const SETUP_LINE = /setup: open on port (\d+), code ([a-z0-9]+)$/;

/** `npm start` arguments without --setup, and whether it was given. */
export function setupFlag(argv: string[]): { argv: string[]; leaveOpen: boolean } {
	return { argv: argv.filter(arg => arg !== "--setup"), leaveOpen: argv.includes("--setup") };
}

/** Asks the simulator whose state folder is `state` for a factory reset at its next start. */
export function factoryReset(state: string): void {
	mkdirSync(state, { recursive: true });
	for (const name of ["current", "code"])
		rmSync(join(state, `setup-${name}`), { force: true });
	writeFileSync(join(state, "setup-reset"), "");
}

export interface SetupPlan {
	settings: Settings;
	leaveOpen: boolean;
	say: (line: string) => void;
}

/** Provisions the device at `port` with `code`, or tells a person how to. */
export async function provisionDevice(port: number, code: string, plan: SetupPlan): Promise<void> {
	const url = `http://127.0.0.1:${port}/`;
	if (plan.leaveOpen) {
		plan.say(`setup: the device waits in setup mode: open ${url} and enter the code ${code} (settings to try: mqttHost localhost, mqttPort ${plan.settings.mqttPort}, deviceId ${plan.settings.deviceId})`);
		return;
	}
	const shown = Object.keys(plan.settings).join(", ");
	plan.say(`provision: POST ${url}settings (${shown}) with the setup code`);
	const answer = await provision(url, code, plan.settings);
	plan.say(`provision: -> ${answer.status} ${answer.body}`);
}

/** A line callback for a simulator's console that provisions once it sees the setup line. */
export function onSetupLine(plan: SetupPlan): (line: string) => void {
	return line => {
		const match = SETUP_LINE.exec(line);
		if (match)
			provisionDevice(Number(match[1]), match[2], plan).catch(error => plan.say(`provision: ${error}`));
	};
}
