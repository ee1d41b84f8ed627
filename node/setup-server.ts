/*
 * Setup mode on Node: the core's SetupHandler behind a node:http server on loopback,
 * and the settings in a folder of files (FileBlobs), as the simulators keep them.
 *
 * - Same contract as the device (app/setup/setup-handler.ts): GET /, POST /settings,
 *   200/400/401/413/429. The 16 KB limit is enforced here: a Content-Length above it
 *   is answered 413 at once, and a body that grows past it is answered 413 and the
 *   connection closed. A client that has not sent its whole request within
 *   CLIENT_TIMEOUT ms is dropped (node:http's requestTimeout).
 * - Listens on 127.0.0.1 only; `port` 0 picks a free one (see `port` once started).
 * - FileBlobs writes each blob to a temporary file renamed over the old one.
 * - The setup code is made and kept as on the device (app/setup/setup-code.ts), from
 *   node:crypto's random bytes; the console line is the device's.
 */

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { RawConfig } from "../modules/app/config/config";
import type { Log } from "../modules/app/ports";
import { MAX_REQUEST } from "../modules/app/setup/http-request";
import { SettingsStore, type BlobStorage } from "../modules/app/setup/settings-store";
import { setupCode } from "../modules/app/setup/setup-code";
import { SetupHandler, type SetupAnswer } from "../modules/app/setup/setup-handler";
import { checkIdentityDer } from "./credentials";
import { defaultNodeDeviceId } from "./device";
import { nodeClock } from "./ports";

export const CLIENT_TIMEOUT = 10_000;	// ms

export class FileBlobs implements BlobStorage {
	constructor(readonly dir: string) {
		mkdirSync(dir, { recursive: true });
	}
	read(name: string): string | undefined {
		const path = join(this.dir, `setup-${name}`);
		return existsSync(path) ? readFileSync(path, "utf8") : undefined;
	}
	write(name: string, text: string): void {
		const path = join(this.dir, `setup-${name}`);
		writeFileSync(path + ".new", text);
		renameSync(path + ".new", path);
	}
	remove(name: string): void {
		rmSync(join(this.dir, `setup-${name}`), { force: true });
	}
}

export interface NodeSetupOptions {
	/** The image's config (what the settings are laid over). */
	image: RawConfig;
	blobs: BlobStorage;
	/** 0: a free port. */
	port: number;
	log: Log;
	/** After a 200, once the answer is sent. */
	onSaved(): void;
}

export interface NodeSetup {
	readonly port: number;
	readonly code: string;
	readonly store: SettingsStore;
	close(): Promise<void>;
}

export async function startNodeSetup(options: NodeSetupOptions): Promise<NodeSetup> {
	const { log } = options;
	const store = new SettingsStore(options.blobs);
	const code = setupCode(options.blobs, count => new Uint8Array(randomBytes(count)));
	const handler = new SetupHandler({
		code, store, image: options.image, clock: nodeClock, log,
		context: { defaultDeviceId: defaultNodeDeviceId(), wifiRequired: false },
		identity: { check: checkIdentityDer },
	});
	const send = (response: import("node:http").ServerResponse, answer: SetupAnswer) => {
		const headers: Record<string, string | number> = { "Content-Type": answer.contentType, "Cache-Control": "no-store", Connection: "close" };
		if (answer.retryAfter)
			headers["Retry-After"] = answer.retryAfter;
		response.writeHead(answer.status, headers);
		response.end(answer.body);
	};
	const server: Server = createServer({ requestTimeout: CLIENT_TIMEOUT, headersTimeout: CLIENT_TIMEOUT }, (request, response) => {
		const declared = Number(request.headers["content-length"] ?? 0);
		if (declared > MAX_REQUEST) {
			send(response, handler.refused(413, `request larger than ${MAX_REQUEST} bytes`));
			request.destroy();
			return;
		}
		const chunks: Buffer[] = [];
		let size = 0;
		request.on("data", (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_REQUEST) {
				send(response, handler.refused(413, `request larger than ${MAX_REQUEST} bytes`));
				request.destroy();
				return;
			}
			chunks.push(chunk);
		});
		request.on("end", () => {
			if (size > MAX_REQUEST)
				return;
			let body: string | undefined;
			try { body = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)); }
			catch { body = undefined; }
			const answer = handler.handle({ method: request.method ?? "GET", path: request.url ?? "/", authorization: request.headers.authorization, body });
			send(response, answer);
			if (answer.restart)
				response.on("finish", () => setImmediate(options.onSaved));
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, "127.0.0.1", () => resolve());
	});
	const address = server.address();
	const port = typeof address === "object" && address ? address.port : options.port;
	log(`setup: open on port ${port}, code ${code}`);
	return {
		port, code, store,
		close: () => new Promise<void>(resolve => {
			server.closeAllConnections();
			server.close(() => resolve());
		}),
	};
}
