/*
 * Small loopback networking helpers shared by the broker launchers and the tests.
 *
 * - freePort() asks the kernel for an unused 127.0.0.1 port (a tiny race with other
 *   processes is accepted: the caller binds it right away).
 * - waitForTls() polls until something on the port completes a TLS handshake; it does
 *   not check the certificate, only that the listener is really serving TLS.
 */

import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";

export const LOOPBACK = "127.0.0.1";

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, LOOPBACK, () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => port ? resolve(port) : reject(new Error("no port assigned")));
		});
	});
}

function tryTls(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = tlsConnect({ host: LOOPBACK, port, rejectUnauthorized: false, servername: "localhost" });
		const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
		socket.setTimeout(1_000, () => done(false));
		socket.once("secureConnect", () => done(true));
		socket.once("error", () => done(false));
	});
}

/** Resolves once a TLS handshake on `port` succeeds; rejects after `timeout` ms or when `aborted()` says so. */
export async function waitForTls(port: number, timeout = 10_000, aborted: () => string | undefined = () => undefined): Promise<void> {
	const deadline = Date.now() + timeout;
	for (;;) {
		const why = aborted();
		if (why)
			throw new Error(why);
		if (await tryTls(port))
			return;
		if (Date.now() > deadline)
			throw new Error(`nothing serves TLS on ${LOOPBACK}:${port} after ${timeout} ms`);
		await new Promise(resolve => setTimeout(resolve, 50));
	}
}
