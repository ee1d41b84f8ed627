/*
 * TLS session resumption in the Linux simulator (modules/tls-socket's session cache):
 * a reconnect after a cut cable resumes the broker's session; an update download from
 * another server (same host name, other port) takes a session of its own and does not
 * evict the broker's; a restarted broker has forgotten the session, so that reconnect
 * is a full handshake, and the one after it resumes again. Read from the firmware's
 * trace ("tls: resumed <host:port>" / "tls: full handshake <host:port>").
 * MQTT and the update fetcher share one socket class and session cache (main.ts).
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { waitFor } from "../../tools/harness/wait";
import { signUpdate } from "../../tools/ota-sign";
import { sdkSkip, simulatedDevice } from "./support";

describe("simulator: TLS session resumption", () => {
	const image = randomBytes(8 * 1024);
	const sim = simulatedDevice("sim-tls-resume", { relay: true, images: [["/fw.bin", { kind: "ok", body: image }]] });

	/** The next TLS outcome traced for `server` after line `from`: "resumed" or "full handshake". */
	const handshakeAfter = (from: number, server: string) => waitFor(`a handshake with ${server}`, () => {
		const line = sim.simulator.lines.slice(from).find(text => text.startsWith("tls: ") && text.endsWith(` ${server}`));
		return line && line.slice("tls: ".length, -server.length - 1);
	}, 30_000);
	const online = () => waitFor("online", () => sim.simulator.lines.filter(text => text.startsWith("mqtt: ")).at(-1)?.endsWith("-> online"), 60_000);
	const cut = async (): Promise<string> => {
		await online();
		const from = sim.simulator.lines.length;
		sim.relay!.cut();
		return handshakeAfter(from, `localhost:${sim.relay!.port}`);
	};

	/** An update of `image` (wrong hash: it fails after the download, nothing is installed). */
	const startUpdate = async () => {
		await online();
		const sha256 = createHash("sha256").update(image).digest("hex").replace(/^./, digit => digit === "0" ? "1" : "0");
		const fields = { model: "lin", version: "9.9.9", size: image.length, sha256 };	// signed as is: the hash is what fails
		const answer = await sim.command({ op: "ota.start", url: sim.images!.url("/fw.bin"), ...fields, signature: signUpdate(sim.signingKey(), fields) });
		assert.equal(answer.ok, true, JSON.stringify(answer));
	};

	it("resumes after a cut, keeps the broker's session across an update download, not across a broker restart", { skip: sdkSkip }, async () => {
		assert.equal(await handshakeAfter(0, `localhost:${sim.relay!.port}`), "full handshake", "the first connect");
		assert.equal(await cut(), "resumed", "a cut cable, broker alive");

		const from = sim.simulator.lines.length;
		await startUpdate();
		assert.equal(await handshakeAfter(from, `localhost:${sim.images!.port}`), "full handshake", "the update server's own session");
		assert.equal(await cut(), "resumed", "the broker's session survived the download");

		const restarted = sim.simulator.lines.length;
		await sim.broker.restart(300);
		assert.equal(await handshakeAfter(restarted, `localhost:${sim.relay!.port}`), "full handshake", "a restarted broker forgot the session");
		assert.equal(await cut(), "resumed", "the new session is cached");
	});
});
