/*
 * TLS session resumption, side by side: each app dials the broker through its own
 * loopback TCP relay; cutting the relay's connections (broker alive, no close_notify)
 * makes each reconnect offer its cached session, which mosquitto still holds. The
 * handshakes (connecting -> online) after these cuts are the resumed ones; those after
 * broker restarts (mosquitto forgot every session) the full ones. The firmware's trace
 * says which it was ("tls: resumed localhost:<port>", from modules/tls-socket).
 */

import type { TcpProxy } from "../tools/harness/tcp-proxy";
import { delay } from "../tools/harness/wait";
import { App, median, type Handshake } from "./app";

export interface Handshakes { connects: number; medianMs: number | null; tlsMs: number | null; resumed: number }

/** Cuts every app's relay `count` times, waiting for each app's next publish between cuts. */
export async function cutConnections(apps: { app: App; proxy: TcpProxy }[], count: number): Promise<void> {
	for (let round = 1; round <= count; round++) {
		const at = Date.now();
		for (const { proxy } of apps)
			proxy.cut();
		for (const { app } of apps)
			await app.waitFor(`its first publish after socket cut ${round}`, () => app.publishedAfter(at), 30_000);
		await delay(1_000);
	}
}

export function summarize(list: Handshake[]): Handshakes {
	const tls = list.filter(h => h.tls !== undefined).map(h => h.tls! - h.start);
	return {
		connects: list.length,
		medianMs: list.length ? median(list.map(h => h.end - h.start)) : null,
		tlsMs: tls.length ? median(tls) : null,
		resumed: list.filter(h => h.tlsResult === "resumed").length,
	};
}
