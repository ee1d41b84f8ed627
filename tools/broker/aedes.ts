/*
 * Embedded fallback broker: aedes served over node:tls with the dev PKI, for `npm start`
 * on machines without mosquitto. The integration tests use mosquitto.
 *
 * - Same shape as the mosquitto launcher: TLS 1.2 only, loopback only, anonymous
 *   allowed, the certificate chain sent, a client certificate asked for but optional.
 * - Sessions, retained messages and queued QoS 0 messages live in memory; restart()
 *   closes the listener and every connection and listens again on the same port with
 *   the same aedes instance, so they survive a restart (not a process exit).
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { Socket } from "node:net";
import Aedes from "aedes";
import type { Broker, BrokerOptions } from "./types";
import { LOOPBACK, freePort, waitForTls } from "../net";

export async function startAedesBroker(options: BrokerOptions): Promise<Broker> {
	const certName = options.certName ?? "server";
	const port = options.port ?? await freePort();
	const aedes = new Aedes({ queueLimit: 1_000 });
	const secure = {
		ca: readFileSync(join(options.pkiDir, "ca.pem")),
		cert: readFileSync(join(options.pkiDir, `${certName}-chain.pem`)),
		key: readFileSync(join(options.pkiDir, `${certName}.key`)),
		minVersion: "TLSv1.2" as const,
		maxVersion: "TLSv1.2" as const,
		requestCert: true,
		rejectUnauthorized: false,	// a client certificate is optional, as with mosquitto's defaults
	};
	let server: Server | undefined;
	const sockets = new Set<Socket>();

	async function listen(): Promise<void> {
		const next = createServer(secure, (socket: TLSSocket) => aedes.handle(socket));
		next.on("connection", (socket: Socket) => {
			sockets.add(socket);
			socket.on("close", () => sockets.delete(socket));
		});
		next.on("tlsClientError", () => { /* a refused handshake is the client's business */ });
		await new Promise<void>((resolve, reject) => {
			next.once("error", reject);
			next.listen(port, LOOPBACK, () => resolve());
		});
		server = next;
		await waitForTls(port);
	}

	async function close(): Promise<void> {
		const current = server;
		server = undefined;
		if (!current)
			return;
		for (const socket of sockets)
			socket.destroy();
		sockets.clear();
		await new Promise<void>(resolve => current.close(() => resolve()));
	}

	await listen();
	return {
		kind: "aedes",
		port,
		pid: process.pid,
		logFile: undefined,
		async restart(downtime = 0) {
			await close();
			await new Promise(resolve => setTimeout(resolve, downtime));
			await listen();
		},
		async stop() {
			await close();
			await new Promise<void>(resolve => aedes.close(() => resolve()));
		},
	};
}
