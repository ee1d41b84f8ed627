/*
 * OTA throughput, side by side: the firmware's ota.start (download + SHA-256 + write to
 * the simulator's file target, then verify) against a bare HTTPS download of the same
 * image (bench/rawfetch) from the same loopback server, one after the other in one
 * bench run. Both are timed on the host from the apps' own trace lines:
 * firmware "ota: 1.0.0 -> ..." to "ota: applying"; rawfetch "start" to "done".
 * The lin simulator reads a socket at roughly 40 KB/s, so these are the simulator's
 * figures, not a board's; the ratio is what carries over.
 */

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { buildFirmware } from "../tools/sdk";
import { startImageServer, type ImageServer } from "../tools/harness/image-server";
import { waitFor } from "../tools/harness/wait";
import { App } from "./app";
import { signedStart } from "../tools/ota-sign";

const IMAGE_SIZE = 256 * 1024;	// bytes
const PATH = "/bench-image.bin";

export interface OtaFigures {
	bytes: number;
	otaMs: number | null;		// firmware: command accepted to applying (download + verify)
	rawMs: number | null;		// bare app: request to last byte
}

export async function startOtaServer(pkiDir: string): Promise<{ server: ImageServer; image: Buffer }> {
	const image = randomBytes(IMAGE_SIZE);
	const server = await startImageServer(pkiDir);
	server.route(PATH, { kind: "ok", body: image });
	return { server, image };
}

/** Builds the bare downloader for `server` (call before the timed part: a build is slow). */
export function buildRawFetch(outDir: string, caDer: string, server: ImageServer, bench: string): App {
	return new App("rawfetch", buildFirmware({
		outDir, caDer, app: join(bench, "rawfetch/manifest.json"),
		config: { imageHost: "localhost", imagePort: server.port, imagePath: PATH },
	}));
}

/** Times the firmware's update of `image` (signed with `signingKey`), then the bare download of the same bytes. */
export async function measureOta(firmware: App, rawfetch: App, server: ImageServer, image: Buffer, signingKey: Buffer,
	sendCommand: (payload: string) => Promise<void>): Promise<OtaFigures> {
	const since = Date.now();
	await sendCommand(JSON.stringify({ id: "bench-ota", ...signedStart(signingKey, image, server.url(PATH), "9.9.9") }));
	const line = (app: App, pattern: RegExp) => app.lines.find(entry => entry.at >= since && pattern.test(entry.text));
	const begun = await waitFor("the firmware's OTA start", () => line(firmware, /^ota: \S+ -> 9\.9\.9/), 30_000);
	const applying = await waitFor("the firmware's OTA verify", () => line(firmware, /^ota: (applying|failed)/), 120_000);
	const otaMs = /applying/.test(applying.text) ? applying.at - begun.at : null;

	rawfetch.launch(300);
	const start = await waitFor("the raw download's start", () => line(rawfetch, /^rawfetch: start/), 30_000);
	const done = await waitFor("the raw download's end", () => line(rawfetch, /^rawfetch: (done|failed)/), 120_000);
	const received = Number(/(\d+) bytes/.exec(done.text)?.[1] ?? 0);
	rawfetch.stopping = true;
	await rawfetch.simulator.stop();
	return { bytes: image.length, otaMs, rawMs: received === image.length ? done.at - start.at : null };
}

export function throughput(bytes: number, ms: number | null): number | null {
	return ms ? Math.round(bytes / 1024 / (ms / 1000) * 10) / 10 : null;
}
