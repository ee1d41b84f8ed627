/*
 * tls-socket/session-cache: TLS 1.2 sessions to resume, one per server identity.
 *
 * - Why: the SDK's `ssl/cache` keeps one session for the whole VM, keyed by host name
 *   only, so a download from the update server evicted the broker's session (and a
 *   server on the same host with another port got the broker's session offered), and a
 *   cached session outlived a change of CA: resuming skips the certificate check.
 * - A session is kept per key: host, port, and the SHA-256 of the trusted CA and of the
 *   client certificate. A new CA or client certificate is a new key, so a session
 *   verified under the old ones is never offered again; at most CAPACITY keys, the
 *   oldest goes first.
 * - manager(key) is what an SSL session calls (its `cacheManager`: getByHost at the
 *   ClientHello, saveSession after Finished, deleteSessionID when the server refused
 *   to resume); it traces "tls: resumed <host:port>" or "tls: full handshake
 *   <host:port>" once per handshake, the proof that resumption happens.
 * - Created at run time (see tls-socket: preloaded module state is frozen).
 */

import { Digest } from "crypt";

const CAPACITY = 4;		// server identities remembered: the broker, update servers

interface Saved { id: ArrayBuffer; secret: ArrayBuffer }

/** The calls the SDK's SSLSession makes on its `cacheManager`. */
export interface CacheManager {
	getByHost(host: string): Saved | undefined;
	getByID(id: ArrayBuffer): Saved | undefined;
	saveSession(host: string, id: ArrayBuffer, secret: ArrayBuffer): void;
	deleteSessionID(id: ArrayBuffer): void;
}

export interface SessionCache {
	manager(key: string): CacheManager;
}

/** The cache key for one server as this client trusts and presents itself to it. */
export function sessionKey(host: string, port: number, ca: ArrayBuffer | undefined, clientCert: ArrayBuffer | undefined): string {
	return `${host}:${port} ca=${fingerprint(ca)} cert=${fingerprint(clientCert)}`;
}

export function createSessionCache(): SessionCache {
	const saved = new Map<string, Saved>();
	return {
		manager(key: string): CacheManager {
			const server = key.slice(0, key.indexOf(" "));
			let offered: ArrayBuffer | undefined;
			return {
				getByHost() {
					offered = saved.get(key)?.id;
					return saved.get(key);
				},
				getByID: () => undefined,	// client side only
				saveSession(host, id, secret) {
					trace(`tls: ${offered && same(offered, id) ? "resumed" : "full handshake"} ${server}\n`);
					saved.delete(key);
					saved.set(key, { id, secret });
					if (saved.size > CAPACITY)
						saved.delete(saved.keys().next().value!);
				},
				deleteSessionID(id) {
					if (saved.has(key) && same(saved.get(key)!.id, id))
						saved.delete(key);
				},
			};
		},
	};
}

function fingerprint(data: ArrayBuffer | undefined): string {
	if (!data)
		return "none";
	const digest = new Digest("SHA256");
	digest.write(data);
	const bytes = new Uint8Array(digest.close());
	let hex = "";
	for (let i = 0; i < 16; i++)	// 128 bits: no CA or certificate change can collide
		hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
	return hex;
}

function same(a: ArrayBuffer, b: ArrayBuffer): boolean {
	if (a.byteLength !== b.byteLength)
		return false;
	const x = new Uint8Array(a), y = new Uint8Array(b);
	for (let i = 0; i < x.length; i++)
		if (x[i] !== y[i])
			return false;
	return true;
}
