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
 *   main.ts makes one for the firmware: MQTT and the update fetcher share the class, its
 *   roots and its cache (about 1.6 KB of chunks a class), which replaces the SDK's
 *   single-entry `ssl/cache` on every connection; the cache keeps the broker's session
 *   and the update server's apart (session-cache: keyed by server, CA and client
 *   certificate).
 * - `roots` (optional) are the CAs every socket of the class trusts, several during a CA
 *   rotation: securesocket's `secure.certificate` takes one, so the first goes there
 *   and the others are registered with the session's certificate manager (the SDK's
 *   modules/crypt/ssl/ssl_cert.js), which accepts a chain ending at any registered root.
 */

import SecureSocket from "securesocket";
import Timer from "timer";
import { createSessionCache, sessionKey, type CacheManager } from "tls-socket/session-cache";

// The parts of securesocket's constructor dictionary and instance this class reads.
type Certificate = ArrayBuffer | HostBuffer;
interface Dictionary {
	host: string;
	port: number;
	secure?: { certificate?: Certificate; clientCertificates?: Certificate[]; [setting: string]: unknown };
	[key: string]: unknown;
}
interface WithSession {
	ssl: {
		cacheManager: CacheManager | false;
		certificateManager: { register(certificate: Certificate): void };
	};
}

const LINGER = 1_000;	// ms a closed socket stays referenced

/** securesocket's protocolVersion for TLS 1.2, the only version the SDK speaks. */
export const TLS_1_2 = 0x0303;

export function lingeringSecureSocket(roots: readonly Certificate[] = []): typeof SecureSocket {
	const closed: object[] = [];
	let sweeper: Timer | undefined;
	const sessions = createSessionCache();
	return class LingeringSecureSocket extends SecureSocket {
		constructor(dictionary: Dictionary) {
			const dict = roots.length ? { ...dictionary, secure: { ...dictionary.secure, certificate: roots[0] } } : dictionary;
			super(dict);
			// securesocket made its SSLSession above; the handshake starts on connect.
			const session = (this as unknown as WithSession).ssl;
			for (let i = 1; i < roots.length; i++)
				session.certificateManager.register(roots[i]);
			const { certificate, clientCertificates } = dict.secure ?? {};
			session.cacheManager = sessions.manager(sessionKey(dict.host, dict.port, certificate as ArrayBuffer | undefined, clientCertificates?.[0] as ArrayBuffer | undefined));
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
