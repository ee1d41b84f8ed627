/*
 * A loopback TCP relay between a device and the broker, so a test can cut the
 * device's connection like a pulled cable: no DISCONNECT, no TLS close_notify.
 *
 * - cut() destroys every relayed connection on both sides at once.
 * - refuse(true) makes new connections fail at once (accepted, then destroyed), so the
 *   device cannot reconnect while the test inspects what the broker did.
 * - retarget(port) sends new connections to another broker (one simulator build can
 *   then meet several brokers through the one port it dials).
 */

import { connect, createServer, type Socket } from "node:net";
import { LOOPBACK } from "../net";

export interface TcpProxy {
	port: number;
	cut(): void;
	refuse(refusing: boolean): void;
	retarget(port: number): void;
	close(): Promise<void>;
}

export function startProxy(targetPort: number): Promise<TcpProxy> {
	const sockets = new Set<Socket>();
	let refusing = false;
	let target = targetPort;
	const track = (socket: Socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
		socket.on("error", () => socket.destroy());
	};
	const server = createServer(client => {
		if (refusing) {
			client.destroy();
			return;
		}
		const upstream = connect(target, LOOPBACK);
		track(client);
		track(upstream);
		client.pipe(upstream);
		upstream.pipe(client);
		client.on("close", () => upstream.destroy());
		upstream.on("close", () => client.destroy());
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, LOOPBACK, () => {
			const address = server.address();
			resolve({
				port: typeof address === "object" && address ? address.port : 0,
				cut() {
					for (const socket of sockets)
						socket.resetAndDestroy();
				},
				refuse(value: boolean) {
					refusing = value;
				},
				retarget(port: number) {
					target = port;
				},
				close() {
					for (const socket of sockets)
						socket.destroy();
					return new Promise(done => server.close(() => done()));
				},
			});
		});
	});
}
