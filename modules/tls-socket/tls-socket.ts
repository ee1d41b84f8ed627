/*
 * tls-socket: the SecureSocket class every TLS client of the firmware uses (MQTT and
 * OTA downloads), with two differences: it resumes TLS sessions from its own cache,
 * one per server (see session-cache), and a closed socket stays referenced for LINGER ms.
 *
 * - Why: the simulator's socket (modules/network/socket/lin) still reads its JS object
 *   after securesocket closed it inside the disconnect callback; if a garbage
 *   collection ran in between, mcsim crashed (gdb: socketReadable ->
 *   fxGetHostDestructor -> longjmp(NULL)), seen after a few broker restarts. Holding
 *   the objects a little longer costs nothing on a board.
 * - TLS_1_2 is the protocolVersion both clients ask for.
 * - lingeringSecureSocket() makes the class at run time: its list of closed sockets and
 *   its session cache must not live at module level, where preloading would freeze them.
 *   Each class has its own cache (MQTT's holds the broker's session, the fetcher's the
 *   update server's), replacing the SDK's single-entry `ssl/cache` on every connection.
 */

import SecureSocket from "securesocket";
import Timer from "timer";
import { createSessionCache, sessionKey, type CacheManager } from "tls-socket/session-cache";

// The parts of securesocket's constructor dictionary and instance this class reads.
interface Dictionary { host: string; port: number; secure?: { certificate?: ArrayBuffer; clientCertificates?: ArrayBuffer[] } }
interface WithSession { ssl: { cacheManager: CacheManager | false } }

const LINGER = 1_000;	// ms a closed socket stays referenced

/** securesocket's protocolVersion for TLS 1.2, the only version the SDK speaks. */
export const TLS_1_2 = 0x0303;

export function lingeringSecureSocket(): typeof SecureSocket {
	const closed: object[] = [];
	let sweeper: Timer | undefined;
	const sessions = createSessionCache();
	return class LingeringSecureSocket extends SecureSocket {
		constructor(dict: Dictionary) {
			super(dict);
			const { certificate, clientCertificates } = dict.secure ?? {};
			// securesocket made its SSLSession above; the handshake starts on connect.
			(this as unknown as WithSession).ssl.cacheManager = sessions.manager(sessionKey(dict.host, dict.port, certificate, clientCertificates?.[0]));
		}
		close(): void {
			closed.push(this);
			if (this.sock)
				closed.push(this.sock);
			sweeper ??= Timer.set(() => {
				closed.length = 0;
				sweeper = undefined;
			}, LINGER);
			super.close();
		}
	};
}
