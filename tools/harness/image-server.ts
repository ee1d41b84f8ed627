/*
 * A loopback HTTPS server for firmware images, with the faults an update must survive.
 *
 * - Serves routes added with route(path, behaviour): "ok" (200 with Content-Length),
 *   "not-found" (404), "cut" (200 announcing the whole image, half of it sent, then
 *   the socket destroyed: no TLS close_notify), "no-length" (200, chunked, no
 *   Content-Length), "slow" (200, `chunk` bytes every `every` ms). Unknown paths 404.
 * - Certificates come from a PKI dir: `<cert>.key` and `<cert>-chain.pem` (the chain
 *   is sent, as the device's TLS stack needs); default "server" (SAN localhost and
 *   127.0.0.1); pass makeRogueServer(dir) for one the device must refuse.
 * - `requests` counts requests per path, so a test can tell a refused TLS handshake
 *   (no request) from a served one.
 */

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { LOOPBACK } from "../net";

export type Behaviour =
	| { kind: "ok" | "not-found" | "cut" | "no-length"; body: Buffer }
	| { kind: "slow"; body: Buffer; chunk: number; every: number };

export interface ImageServer {
	port: number;
	/** https://localhost:<port><path> */
	url(path: string): string;
	route(path: string, behaviour: Behaviour): void;
	readonly requests: Map<string, number>;
	close(): Promise<void>;
}

function send(response: ServerResponse, behaviour: Behaviour): void {
	const { body } = behaviour;
	const type = { "content-type": "application/octet-stream" };
	switch (behaviour.kind) {
		case "ok":
			response.writeHead(200, { ...type, "content-length": body.length });
			response.end(body);
			return;
		case "not-found":
			response.writeHead(404, { "content-type": "text/plain", "content-length": 9 });
			response.end("not found");
			return;
		case "no-length":
			response.writeHead(200, type);	// chunked: no Content-Length
			response.write(body);
			response.end();
			return;
		case "cut": {
			response.writeHead(200, { ...type, "content-length": body.length });
			response.write(body.subarray(0, body.length >> 1), () => setTimeout(() => response.socket?.destroy(), 50));
			return;
		}
		case "slow": {
			response.writeHead(200, { ...type, "content-length": body.length });
			let at = 0;
			const next = () => {
				if (response.destroyed)
					return;
				const piece = body.subarray(at, at + behaviour.chunk);
				at += piece.length;
				if (at >= body.length)
					response.end(piece);
				else {
					response.write(piece);
					setTimeout(next, behaviour.every);
				}
			};
			next();
			return;
		}
	}
}

export function startImageServer(pkiDir: string, cert = "server"): Promise<ImageServer> {
	const routes = new Map<string, Behaviour>();
	const requests = new Map<string, number>();
	const server: Server = createServer({
		key: readFileSync(join(pkiDir, `${cert}.key`)),
		cert: readFileSync(join(pkiDir, `${cert}-chain.pem`)),
		minVersion: "TLSv1.2",
	}, (request, response) => {
		const path = (request.url ?? "/").split("?")[0];
		requests.set(path, (requests.get(path) ?? 0) + 1);
		send(response, routes.get(path) ?? { kind: "not-found", body: Buffer.alloc(0) });
	});
	server.on("tlsClientError", () => { /* a refused handshake is what some tests want */ });
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, LOOPBACK, () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			resolve({
				port,
				url: path => `https://localhost:${port}${path}`,
				route: (path, behaviour) => { routes.set(path, behaviour); },
				requests,
				close: () => new Promise(done => {
					server.closeAllConnections();
					server.close(() => done());
				}),
			});
		});
	});
}
