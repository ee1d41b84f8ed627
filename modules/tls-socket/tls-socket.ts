/*
 * tls-socket: the SecureSocket class every TLS client of the firmware uses (MQTT and
 * OTA downloads), with one difference: a closed socket stays referenced for LINGER ms.
 *
 * - Why: the simulator's socket (modules/network/socket/lin) still reads its JS object
 *   after securesocket closed it inside the disconnect callback; if a garbage
 *   collection ran in between, mcsim crashed (gdb: socketReadable ->
 *   fxGetHostDestructor -> longjmp(NULL)), seen after a few broker restarts. Holding
 *   the objects a little longer costs nothing on a board.
 * - TLS_1_2 is the protocolVersion both clients ask for.
 * - lingeringSecureSocket() makes the class at run time: its list of closed sockets must
 *   not live at module level, where preloading would freeze it.
 */

import SecureSocket from "securesocket";
import Timer from "timer";

const LINGER = 1_000;	// ms a closed socket stays referenced

/** securesocket's protocolVersion for TLS 1.2, the only version the SDK speaks. */
export const TLS_1_2 = 0x0303;

export function lingeringSecureSocket(): typeof SecureSocket {
	const closed: object[] = [];
	let sweeper: Timer | undefined;
	return class LingeringSecureSocket extends SecureSocket {
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
