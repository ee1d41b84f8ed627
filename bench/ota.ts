/*
 * OTA throughput and memory, side by side: the firmware's ota.start (download + SHA-256
 * + write to the simulator's file target, then verify) against a bare HTTPS download of
 * the same image (bench/rawfetch) from the same loopback server, one after the other in
 * one bench run. Both are timed on the host from the apps' own trace lines:
 * firmware "ota: 1.0.0 -> ..." to "ota: applying"; rawfetch "start" to "done".
 * The lin simulator reads a socket at roughly 40 KB/s, so these are the simulator's
 * figures, not a board's; the ratio is what carries over.
 * While the firmware downloads, its MQTT session stays busy: telemetry every second, a
 * command every LOAD_EVERY ms (status and gpio.get in turn), and once, half-way, its
 * broker connection is cut (`cutBroker`) so it reconnects during the download; the
 * heap peaks of that window are the ones the board's heaps must hold.
 */

import { randomBytes } from "node:crypto";
import { startImageServer, type ImageServer } from "../tools/harness/image-server";
import { delay } from "../tools/harness/wait";
import type { App, Peaks } from "./app";
import { signedStart } from "../tools/ota-sign";

const IMAGE_SIZE = 256 * 1024;	// bytes
export const IMAGE_PATH = "/bench-image.bin";
const LOAD_EVERY = 250;			// ms between commands during the download
const ANSWER_WITHIN = 3_000;	// ms for the device to answer ota.start before it is sent again (and said so)

export interface OtaFigures {
	bytes: number;
	otaMs: number | null;		// firmware: command accepted to applying (download + verify)
	rawMs: number | null;		// bare app: request to last byte
	window: { from: number; to: number };	// the firmware's download + verify
	commands: number;			// sent during the window
	rawPeaks: Peaks;			// the bare download's whole run
	starts: number;				// ota.start commands it took (1 unless the device refused one; each resend is logged)
}

export async function startOtaServer(pkiDir: string): Promise<{ server: ImageServer; image: Buffer }> {
	const image = randomBytes(IMAGE_SIZE);
	const server = await startImageServer(pkiDir);
	server.route(IMAGE_PATH, { kind: "ok", body: image });
	return { server, image };
}

/**
 * Times the firmware's update of `image` (signed with `signingKey`), then the bare
 * download of the same bytes. `answers` holds the firmware's command results by id: an
 * ota.start it refuses (a command that arrives before its settle marker is refused as
 * possibly retained) is sent again, each time with the answer logged through `step`.
 */
export async function measureOta(firmware: App, rawfetch: App, image: Buffer, signingKey: Buffer, server: ImageServer,
	sendCommand: (payload: string) => Promise<void>, cutBroker: () => void, answers: Map<string, string>, step: (text: string) => void): Promise<OtaFigures> {
	const signed = signedStart(signingKey, image, server.url(IMAGE_PATH), "9.9.9");
	const since = Date.now();
	const line = (app: App, pattern: RegExp) => app.lines.find(entry => entry.at >= since && pattern.test(entry.text));
	let sent = 0, sentAt = 0;
	const send = () => {
		sentAt = Date.now();
		sendCommand(JSON.stringify({ id: `bench-ota-${++sent}`, ...signed })).catch(error => step(`ota.start bench-ota-${sent} could not be published: ${error}`));
	};
	send();
	const begun = await firmware.waitFor("its OTA start (ota: 1.0.0 -> 9.9.9)", () => {
		const started = line(firmware, /^ota: \S+ -> 9\.9\.9/);
		if (!started && Date.now() - sentAt >= ANSWER_WITHIN && sent < 5) {
			step(`ota.start bench-ota-${sent} did not start the update within ${ANSWER_WITHIN} ms; the device answered: ${answers.get(`bench-ota-${sent}`) ?? "nothing"}; sending it again`);
			send();
		}
		return started;
	}, 30_000);
	let commands = 0;
	let cut = false;
	const load = setInterval(() => {
		commands++;
		const command = commands % 2 ? { op: "status" } : { op: "gpio.get", pin: "led" };
		sendCommand(JSON.stringify({ id: `bench-load-${commands}`, ...command })).catch(() => undefined);
		if (!cut && Date.now() - begun.at > IMAGE_SIZE / 40 / 2) {	// about half-way at ~40 KB/s
			cut = true;
			cutBroker();
		}
	}, LOAD_EVERY);
	const applying = await firmware.waitFor("its OTA verify (ota: applying)", () => line(firmware, /^ota: (applying|failed)/), 120_000)
		.finally(() => clearInterval(load));
	const otaMs = /applying/.test(applying.text) ? applying.at - begun.at : null;
	await delay(1_500);	// the last instruments line of the window

	rawfetch.launch(300);
	const start = await rawfetch.waitFor("its download's start", () => line(rawfetch, /^rawfetch: start/), 30_000);
	const done = await rawfetch.waitFor("its download's end", () => line(rawfetch, /^rawfetch: (done|failed)/), 120_000);
	const received = Number(/(\d+) bytes/.exec(done.text)?.[1] ?? 0);
	rawfetch.stopping = true;
	await rawfetch.simulator.stop();
	return {
		bytes: image.length, otaMs, rawMs: received === image.length ? done.at - start.at : null,
		window: { from: begun.at, to: applying.at }, commands, rawPeaks: { ...rawfetch.peaks }, starts: sent,
	};
}

export function throughput(bytes: number, ms: number | null): number | null {
	return ms ? Math.round(bytes / 1024 / (ms / 1000) * 10) / 10 : null;
}
