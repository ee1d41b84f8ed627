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
 *   take the message (or, for a large one, its first piece) now: securesocket would
 *   otherwise throw half-way. A message larger than one write (app/limits MAX_WRITE,
 *   a Home Assistant discovery message) is written as several TLS records back to back
 *   in the same turn, so nothing else reaches the socket in between; if the buffer
 *   fills between two pieces the stream holds half a packet, so publish() throws and
 *   the session ends. Messages over MAX_MESSAGE are refused (thrown).
 * - Incoming: a PUBLISH that declares more than app/limits MAX_RECEIVE bytes is taken
 *   out of the stream before the SDK's client sees it (oversize.ts: that client
 *   allocates the whole message first, and a board's heap cannot take 300 KB) and
 *   handed on as TOO_LARGE, in its turn among the other messages. Nothing is traced
 *   here: the core answers it (E_TOO_LARGE) and says so. The connection stays up, so a
 *   retained oversized message costs one skip per session, never a reconnect loop.
 * - onClose gets the client's own failure text ("socket error -2", "read time out")
 *   when it gave one.
 * - Sockets are of the class given (`Socket`, tls-socket's: closed ones linger, a
 *   simulator socket bug), which the update fetcher shares.
 * Limits: QoS 0 only; received messages carry no retain flag. A message in pieces
 * needs the simulator's socket, which sends each write at once, or on ESP32 room for
 * the whole message in lwIP's send buffer (8 KB; the discovery message, at most
 * MAX_MESSAGE (7 KB; the core's Outbox never hands over a larger one), goes right after
 * the birth, when it is nearly empty); this ESP32 path is
 * generated and type-checked here, never run.
 */

import Client from "mqtt";
import type SecureSocket from "securesocket";
import { TLS_1_2 } from "tls-socket";
import type { Credentials } from "credentials";
import { NOT_UTF8, TOO_LARGE, type Session, type SessionEvents, type SessionOptions, type Transport } from "app/ports";
import { MAX_MESSAGE, MAX_RECEIVE, MAX_WRITE, PUBLISH_OVERHEAD } from "app/limits";
import { OversizeFilter } from "mqtt-tls/oversize";

export interface TlsOptions {
	host: string;
	port: number;
	credentials: Credentials;
	/** The firmware's one TLS socket class (tls-socket lingeringSecureSocket, with the roots). */
	Socket: typeof SecureSocket;
}

const PUBLISH = 0x30;		// MQTT PUBLISH, QoS 0
const CONNACK = 0x20;
const TOPIC_MAX = 256;		// bytes: longer than any topic the device subscribes to

class TrackedClient extends Client {
	failure = "";
	refusal = 0;	// the CONNACK return code when the broker refused
	#filter: OversizeFilter | undefined;
	received(buffer: ArrayBuffer): void {
		this.#filter ??= new OversizeFilter({
			max: MAX_RECEIVE,
			topicMax: TOPIC_MAX,
			forward: chunk => {
				if (this.state >= 0)	// not after a failure closed the client
					super.received(chunk);
			},
			skipped: topic => {
				let name = "";
				try { name = String.fromArrayBuffer(topic.buffer as ArrayBuffer); }
				catch { /* not UTF-8: no subscribed topic matches "" */ }
				this.dispatch({ code: PUBLISH, topic: name, payload: null });	// queued in order with the others
			},
		});
		if (!this.#filter.feed(buffer))
			this.fail("malformed remaining length");
	}
	dispatch(message: { code: number; returnCode?: number; topic?: string; payload?: ArrayBuffer | null }): unknown {
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
	const { client } = options.credentials;
	const secure: Record<string, unknown> = { protocolVersion: TLS_1_2 };
	if (client) {
		secure.clientCertificates = [client.certificate];
		secure.clientKey = client.key;
	}
	const { Socket } = options;
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
				if (body === null)
					return events.onMessage(topic, TOO_LARGE);
				let text: string;
				try { text = String.fromArrayBuffer(body); }
				catch { text = NOT_UTF8; }	// String.fromArrayBuffer throws on bytes that are not UTF-8
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
					const name = ArrayBuffer.fromString(topic);
					const body = ArrayBuffer.fromString(payload);
					const size = name.byteLength + body.byteLength + PUBLISH_OVERHEAD;
					if (size > MAX_MESSAGE)
						throw new Error(`message of ${size} bytes exceeds ${MAX_MESSAGE}`);
					if (size <= MAX_WRITE) {
						if (socket.write() < size)
							return false;
						client.publish(topic, payload, { retain });
						return true;
					}
					if (socket.write() < MAX_WRITE)
						return false;
					writeInPieces(socket, header(name, body.byteLength, retain), body);
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

/** PUBLISH fixed header, remaining length and topic: everything before the payload. */
function header(topic: ArrayBuffer, payloadLength: number, retain: boolean): Uint8Array {
	let remaining = 2 + topic.byteLength + payloadLength;
	const bytes = [PUBLISH | (retain ? 1 : 0)];
	do {
		const digit = remaining & 0x7f;
		remaining >>>= 7;
		bytes.push(remaining ? digit | 0x80 : digit);
	} while (remaining);
	bytes.push(topic.byteLength >> 8, topic.byteLength & 0xff);
	const head = new Uint8Array(bytes.length + topic.byteLength);
	head.set(bytes);
	head.set(new Uint8Array(topic), bytes.length);
	return head;
}

/** Writes head + body as consecutive writes of at most MAX_WRITE bytes; throws if one does not fit. */
function writeInPieces(socket: { write(...data: unknown[]): number }, head: Uint8Array, body: ArrayBuffer): void {
	let offset = Math.max(0, Math.min(body.byteLength, MAX_WRITE - head.byteLength));
	socket.write(head, new Uint8Array(body, 0, offset));	// fits: the caller checked MAX_WRITE
	while (offset < body.byteLength) {
		const length = Math.min(MAX_WRITE, body.byteLength - offset);
		if (socket.write() < length)
			throw new Error(`socket full after ${offset} of ${body.byteLength} bytes of one message`);
		socket.write(new Uint8Array(body, offset, length));
		offset += length;
	}
}
