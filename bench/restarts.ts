/*
 * Broker restarts, side by side: mosquitto stopped (SIGTERM), down `downtime` ms, started
 * again; each app's next publish at the subscriber after the broker listens again is its
 * reconnect time. Mosquitto forgets every TLS session, so each reconnect is a full
 * handshake.
 *
 * - Surviving the restarts is a figure: an app whose simulator ends is recorded
 *   (survived = the last restart it came back from), reported with its last trace
 *   lines, and left out of the rounds after; the other app goes on.
 * - An app that is alive but does not publish within 30 s of a restart fails the run,
 *   naming it: nothing is retried.
 */

import type { Broker } from "../tools/broker/broker";
import { delay } from "../tools/harness/wait";
import type { App } from "./app";

export interface Restarts { survived: number[]; reconnect: number[][] }

export async function restartBroker(broker: Broker, apps: App[], rounds: number, downtime: number, step: (text: string) => void): Promise<Restarts> {
	const reconnect: number[][] = apps.map(() => []);
	const survived = apps.map(() => 0);
	const reported = new Set<App>();
	for (let round = 1; round <= rounds && apps.some(app => !app.ended); round++) {
		await broker.restart(downtime);
		const up = Date.now();
		for (const [i, app] of apps.entries()) {
			if (app.ended)
				continue;
			try {
				const at = await app.waitFor(`its first publish after broker restart ${round}`, () => app.publishedAfter(up), 30_000);
				reconnect[i].push(at - up);
				survived[i] = round;
			}
			catch (error) {
				if (!app.ended)
					throw error;	// alive and silent: a failure of the run, not a figure
			}
		}
		for (const app of apps)
			if (app.ended && !reported.has(app)) {
				reported.add(app);
				step(`the ${app.name} crashed during restart ${round} (${app.ended}); it survived ${survived[apps.indexOf(app)]} of ${rounds}. Its last trace lines:\n${app.lastLines()}`);
			}
		await delay(1_000);
		if (round % 5 === 0)
			step(`restart ${round}/${rounds}: reconnect ${apps.map((app, i) => `${app.name} ${reconnect[i].at(-1) ?? "-"} ms`).join(", ")}`);
	}
	return { survived, reconnect };
}
