/*
 * mqtt-tls: the core's Transport over the SDK's `mqtt` client and `securesocket`.
 *
 * - Trusts only the bundled roots (checked by `credentials`; several during a CA
 *   rotation); the server name is checked against `host` by the TLS stack. TLS 1.2 is
 *   the minimum; which key exchanges are offered is settled by manifest.json's
 *   `config.tls` (no DHE_RSA: see there).
 * - Mutual TLS when the credentials hold a client certificate and PKCS#8 key;
 *   user/password from the session options.
 * - A CONNACK with a non-zero return code is reported as onRefused(code), read from
 *   the packet the SDK client dispatches, not from its failure text.
 * - publish() returns false, writing nothing, when the socket's send buffer cannot
 *   take the whole message now (securesocket would otherwise throw half-way), and
 *   throws for a message larger than one TLS write can ever carry.
 * - onClose gets the client's own failure text ("socket error -2", "read time out")
 *   when it gave one.
 * - Sockets come from tls-socket (closed ones linger: a simulator socket bug).
 * Limits: QoS 0 only; received messages carry no retain flag.
 */

import Client from "mqtt";
import { TLS_1_2, lingeringSecureSocket } from "tls-socket";
import type { Credentials } from "credentials";
import type { Session, SessionEvents, SessionOptions, Transport } from "app/ports";

export interface TlsOptions {
	host: string;
	port: number;
	credentials: Credentials;
}

// securesocket refuses a write larger than the free send buffer less 128 bytes of
// TLS overhead; about 900 bytes of plaintext is the most one write carries.
const MAX_MESSAGE = 850;	// bytes, MQTT header included
const CONNACK = 0x20;

class TrackedClient extends Client {
	failure = "";
	refusal = 0;	// the CONNACK return code when the broker refused
	dispatch(message: { code: number; returnCode?: number }): unknown {
		if (this.state === 1 && message.code === CONNACK && message.returnCode)
			this.refusal = message.returnCode;
		return super.dispatch(message);
	}
	fail(message?: string): void {
		if (!this.failure)
			this.failure = message ?? "";
		super.fail(message);
	}
}

export function createTransport(options: TlsOptions): Transport {
	const { roots, client } = options.credentials;
	const secure: Record<string, unknown> = { protocolVersion: TLS_1_2 };
	if (client) {
		secure.clientCertificates = [client.certificate];
		secure.clientKey = client.key;
	}
	const Socket = lingeringSecureSocket(roots);
	return {
		open(session: SessionOptions, events: SessionEvents): Session {
			let open = true;
			const client = new TrackedClient({
				host: options.host,
				port: options.port,
				id: session.clientId,
				user: session.user,
				password: session.password,
				timeout: session.keepalive * 1000,
				will: { topic: session.will.topic, message: session.will.payload, retain: session.will.retain },
				Socket,
				secure,
			});
			client.onReady = () => events.onReady();
			client.onMessage = (topic, body) => {
				let text: string;
				try { text = String.fromArrayBuffer(body); }
				catch { text = "\uFFFD"; }	// not UTF-8: hand on something no parser accepts
				events.onMessage(topic, text);
			};
			client.onClose = () => {
				if (!open)
					return;
				open = false;
				if (client.refusal)
					events.onRefused(client.refusal);
				else
					events.onClose(client.failure || "connection closed");
			};
			return {
				publish(topic: string, payload: string, retain: boolean): boolean {
					const socket = client.ws;
					if (!open || !socket)
						throw new Error("session closed");
					const size = ArrayBuffer.fromString(topic).byteLength + ArrayBuffer.fromString(payload).byteLength + 5;
					if (size > MAX_MESSAGE)
						throw new Error(`message of ${size} bytes exceeds one TLS write (${MAX_MESSAGE})`);
					if (socket.write() < size)
						return false;
					client.publish(topic, payload, { retain });
					return true;
				},
				subscribe(topic: string): void {
					client.subscribe(topic);
				},
				close(graceful: boolean): void {
						open = false;
					client.close(!graceful);
				},
			};
		},
	};
}
