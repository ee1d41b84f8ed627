/*
 * mqtt-tls: the core's Transport over the SDK's `mqtt` client and `securesocket`.
 *
 * - Trusts only the bundled root CA named by `caCert` (a DER resource); the server
 *   name is checked against `host` by the TLS stack. TLS 1.2 is the minimum.
 * - Mutual TLS when `clientCert`/`clientKey` name DER resources; user/password from
 *   the session options.
 * - publish() returns false, writing nothing, when the socket's send buffer cannot
 *   take the whole message now (securesocket would otherwise throw half-way), and
 *   throws for a message larger than one TLS write can ever carry.
 * - onClose gets the client's own failure text ("socket error -2", "read time out",
 *   "server rejected mqtt request with code 5") when it gave one.
 * - Sockets come from tls-socket (closed ones linger: a simulator socket bug).
 * Limits: QoS 0 only; received messages carry no retain flag.
 */

import Client from "mqtt";
import { TLS_1_2, lingeringSecureSocket } from "tls-socket";
import Resource from "Resource";
import type { Session, SessionEvents, SessionOptions, Transport } from "app/ports";

export interface TlsOptions {
	host: string;
	port: number;
	caCert: string;			// resource name of the root CA (DER)
	clientCert?: string;	// resource names for mutual TLS (DER)
	clientKey?: string;
}

// securesocket refuses a write larger than the free send buffer less 128 bytes of
// TLS overhead; about 900 bytes of plaintext is the most one write carries.
const MAX_MESSAGE = 850;	// bytes, MQTT header included

class TrackedClient extends Client {
	failure = "";
	fail(message?: string): void {
		if (!this.failure)
			this.failure = message ?? "";
		super.fail(message);
	}
}

export function missingResources(options: TlsOptions): string[] {
	const names = [options.caCert, options.clientCert, options.clientKey];
	return names.filter((name): name is string => !!name && !Resource.exists(name));
}

export function createTransport(options: TlsOptions): Transport {
	const secure: Record<string, unknown> = {
		protocolVersion: TLS_1_2,
		certificate: new Resource(options.caCert),
	};
	if (options.clientCert && options.clientKey) {
		secure.clientCertificates = [new Resource(options.clientCert)];
		secure.clientKey = new Resource(options.clientKey);
	}
	const Socket = lingeringSecureSocket();
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
