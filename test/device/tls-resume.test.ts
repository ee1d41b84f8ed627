/*
 * TLS session resumption in the Linux simulator (modules/tls-socket's session cache):
 * a reconnect after a cut cable resumes the broker's session; an update download from
 * another server (same host name, other port) takes a session of its own and does not
 * evict the broker's; a restarted broker has forgotten the session, so that reconnect
 * is a full handshake, and the one after it resumes again. Read from the firmware's
 * trace ("tls: resumed <host:port>" / "tls: full handshake <host:port>").
 * Skipped, and reported as skipped, where no Moddable SDK is installed.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/types";
import type { Simulator } from "../../tools/sdk";
import { startImageServer, type ImageServer } from "../../tools/harness/image-server";
import { startProxy, type TcpProxy } from "../../tools/harness/tcp-proxy";
import { waitFor } from "../../tools/harness/wait";
import type { Watcher } from "../../tools/harness/watcher";
import { signUpdate } from "../../tools/ota-sign";
import { DeviceFixture, sdkSkip } from "./support";

const ID = "sim-tls-resume";

describe("simulator: TLS session resumption", () => {
	let fixture: DeviceFixture;
	let broker: Broker;
	let proxy: TcpProxy;
	let images: ImageServer;
	let watcher: Watcher;
	let simulator: Simulator;
	const image = randomBytes(8 * 1024);

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		broker = await fixture.broker();
		proxy = await startProxy(broker.port);
		fixture.onCleanup(() => proxy.close());
		images = await startImageServer(fixture.pkiDir);
		fixture.onCleanup(() => images.close());
		images.route("/fw.bin", { kind: "ok", body: image });
		const library = await fixture.build(proxy.port, ID);
		watcher = await fixture.watcher({ port: broker.port, topics: [`devices/${ID}/#`] });
		simulator = fixture.simulate(library);
	});
	after(() => fixture?.cleanup());

	/** The next TLS outcome traced for `server` after line `from`: "resumed" or "full handshake". */
	const handshakeAfter = (from: number, server: string) => waitFor(`a handshake with ${server}`, () => {
		const line = simulator.lines.slice(from).find(text => text.startsWith("tls: ") && text.endsWith(` ${server}`));
		return line && line.slice("tls: ".length, -server.length - 1);
	}, 30_000);
	const online = () => waitFor("online", () => simulator.lines.filter(text => text.startsWith("mqtt: ")).at(-1)?.endsWith("-> online"), 60_000);
	const cut = async (): Promise<string> => {
		await online();
		const from = simulator.lines.length;
		proxy.cut();
		return handshakeAfter(from, `localhost:${proxy.port}`);
	};

	/** An update of `image` (wrong hash: it fails after the download, nothing is installed). */
	const signingKey = () => readFileSync(join(fixture.pkiDir, "ota-signing.key"));
	const startUpdate = async () => {
		await online();
		const sha256 = createHash("sha256").update(image).digest("hex").replace(/^./, digit => digit === "0" ? "1" : "0");
		for (let attempt = 1; attempt <= 5; attempt++) {
			const id = `resume-ota-${attempt}`;
			const fields = { model: "lin", version: "9.9.9", size: image.length, sha256 };	// signed as is: the hash is what fails
			await watcher.publish(`devices/${ID}/cmd`, JSON.stringify({ id, op: "ota.start", url: images.url("/fw.bin"), ...fields, signature: signUpdate(signingKey(), fields) }));
			const answer = await watcher.waitFor(`devices/${ID}/cmd/result`, payload => (payload as { id?: string }).id === id, 15_000);
			if (!answer.payload.toString().includes("E_RETAINED"))
				return;	// not settled yet: commands before the settle marker are refused
			await new Promise(resolve => setTimeout(resolve, 500));
		}
	};

	it("resumes after a cut, keeps the broker's session across an update download, not across a broker restart", { skip: sdkSkip }, async () => {
		assert.equal(await handshakeAfter(0, `localhost:${proxy.port}`), "full handshake", "the first connect");
		assert.equal(await cut(), "resumed", "a cut cable, broker alive");

		const from = simulator.lines.length;
		await startUpdate();
		assert.equal(await handshakeAfter(from, `localhost:${images.port}`), "full handshake", "the update server's own session");
		assert.equal(await cut(), "resumed", "the broker's session survived the download");

		const restarted = simulator.lines.length;
		await broker.restart(300);
		assert.equal(await handshakeAfter(restarted, `localhost:${proxy.port}`), "full handshake", "a restarted broker forgot the session");
		assert.equal(await cut(), "resumed", "the new session is cached");
	});
});
