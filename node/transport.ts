/*
 * NodeTransport: the core's Transport (modules/app/ports.ts) over the `mqtt` npm client,
 * MQTT 3.1.1 on node:tls, as the device does it over securesocket.
 *
 * - Trusts only the given CA (the bundled DER, converted to PEM), checks the server
 *   name against the configured host, TLS 1.2 minimum; optional client certificate and
 *   user/password. Clean session, the will from SessionOptions (QoS 0), no reconnects of
 *   its own (the core reconnects) and no connect timeout of its own (the core has one).
 * - Session contract: publish returns false, writing nothing, while the socket's
 *   buffer is full (it asked for a drain); onReady once after CONNACK; onClose(detail) at most once, only
 *   when the session ends by itself and never after close(); nothing fires inside
 *   open(). publish/subscribe throw unless connected. onMessage reports the packet's
 *   RETAIN flag, so the core can refuse a retained command.
 * - close(true) sends DISCONNECT (the broker drops the will); close(false) destroys
 *   the socket, so the broker publishes the will. cut() does that to the current
 *   session from outside, like a pulled cable, and the core sees it as a lost session.
 * - Resumes its TLS session on reconnect, as the device does (modules/tls-socket): the
 *   transport keeps the last session node:tls handed out and offers it on the next
 *   dial. One transport has one host, port, CA and client certificate, so one session
 *   is all it needs; `resumed` counts the handshakes the broker accepted it on.
 */

import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { SecureVersion, TLSSocket } from "node:tls";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Session, SessionEvents, SessionOptions, Transport } from "../modules/app/ports";
import { describeError } from "./errors";

export interface NodeTransportOptions {
	/** The broker's name as its certificate states it; also where to connect. */
	host: string;
	port: number;
	/** Path of the trusted root CA, DER (as bundled for the device) or PEM. */
	caFile: string;
	/** Paths of a client certificate and its key for mutual TLS (DER or PEM). */
	clientCertFile?: string;
	clientKeyFile?: string;
	/** Report each message's RETAIN flag (default true); false behaves like the XS client, which cannot. */
	reportRetain?: boolean;
}

/** Reads a certificate file, DER or PEM, as PEM. */
export function certificatePem(path: string): string {
	const data = readFileSync(path);
	return data.subarray(0, 10).toString("latin1").startsWith("-----") ? data.toString("utf8") : new X509Certificate(data).toString();
}

function privateKeyPem(path: string): string {
	const data = readFileSync(path);
	if (data.subarray(0, 10).toString("latin1").startsWith("-----"))
		return data.toString("utf8");
	for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
		try {
			return createPrivateKey({ key: data, format: "der", type }).export({ format: "pem", type: "pkcs8" }).toString();
		}
		catch { /* try the next encoding */ }
	}
	throw new Error(`${path}: not a PEM or DER private key`);
}

interface TlsSessions {
	save(session: Buffer): void;
	connected(resumed: boolean): void;
}

class NodeSession implements Session {
	readonly #client: MqttClient;
	readonly #events: SessionEvents;
	#ended = false;		// close() was called or onClose was reported
	#ready = false;
	#error: string | undefined;

	constructor(client: MqttClient, events: SessionEvents, reportRetain: boolean, tls: TlsSessions) {
		this.#client = client;
		this.#events = events;
		client.on("connect", () => {
			if (this.#ended || this.#ready)
				return;
			this.#ready = true;
			events.onReady();
		});
		client.on("message", (topic, payload, packet) => {
			if (!this.#ended)
				events.onMessage(topic, payload.toString("utf8"), reportRetain ? packet.retain : undefined);
		});
		// The first error is the reason; the "close" that follows reports it.
		client.on("error", error => { this.#error ??= describeError(error); });
		client.on("close", () => this.#finish(this.#error ?? (this.#ready ? "connection closed by the broker" : "connection closed before CONNACK")));
		// Connect on the next turn: no callback may fire inside open().
		setImmediate(() => {
			if (this.#ended)
				return;
			client.connect();
			const socket = client.stream as TLSSocket;
			socket.on("session", session => tls.save(session));
			socket.once("secureConnect", () => tls.connected(socket.isSessionReused()));
		});
	}

	get socket(): { destroy(): void } | undefined {
		return this.#ended ? undefined : this.#client.stream;
	}

	publish(topic: string, payload: string, retain: boolean): boolean {
		this.#requireConnected();
		// A socket that asked for a drain is full: write nothing, the core retries later.
		if (this.#client.stream.writableNeedDrain)
			return false;
		this.#client.publish(topic, payload, { qos: 0, retain });
		return true;
	}

	subscribe(topic: string): void {
		this.#requireConnected();
		this.#client.subscribe(topic, { qos: 0 });
	}

	close(graceful: boolean): void {
		if (this.#ended)
			return;
		this.#ended = true;
		if (graceful && this.#client.connected)
			this.#client.end(false);	// DISCONNECT after what was already written
		else {
			this.#client.stream?.destroy();
			this.#client.end(true);
		}
	}

	#requireConnected(): void {
		if (this.#ended || !this.#client.connected)
			throw new Error("not connected");
	}

	#finish(detail: string): void {
		if (this.#ended)
			return;
		this.#ended = true;
		this.#client.end(true);
		this.#events.onClose(detail);
	}
}

export class NodeTransport implements Transport {
	readonly #options: NodeTransportOptions;
	readonly #ca: string;
	readonly #cert: string | undefined;
	readonly #key: string | undefined;
	#current: NodeSession | undefined;
	#tlsSession: Buffer | undefined;
	/** Handshakes that resumed the previous TLS session. */
	resumed = 0;

	constructor(options: NodeTransportOptions) {
		this.#options = options;
		this.#ca = certificatePem(options.caFile);
		this.#cert = options.clientCertFile ? certificatePem(options.clientCertFile) : undefined;
		this.#key = options.clientKeyFile ? privateKeyPem(options.clientKeyFile) : undefined;
	}

	open(options: SessionOptions, events: SessionEvents): Session {
		const { host, port } = this.#options;
		// minVersion is passed through to tls.connect; IClientOptions does not list it.
		const connectOptions: IClientOptions & { minVersion: SecureVersion; session?: Buffer } = {
			protocol: "mqtts",
			host,
			port,
			servername: host,
			ca: this.#ca,
			cert: this.#cert,
			key: this.#key,
			rejectUnauthorized: true,
			minVersion: "TLSv1.2",
			protocolVersion: 4,
			clean: true,
			clientId: options.clientId,
			keepalive: options.keepalive,
			username: options.user,
			password: options.password,
			will: { topic: options.will.topic, payload: options.will.payload, qos: 0, retain: options.will.retain },
			reconnectPeriod: 0,
			connectTimeout: 24 * 3600_000,
			resubscribe: false,
			queueQoSZero: false,
			manualConnect: true,
			session: this.#tlsSession,	// passed through to tls.connect
		};
		const client = mqtt.connect(connectOptions);
		const session = new NodeSession(client, events, this.#options.reportRetain ?? true, {
			save: tlsSession => { this.#tlsSession = tlsSession; },
			connected: resumed => { if (resumed) this.resumed++; },
		});
		this.#current = session;
		return session;
	}

	/** Destroys the current session's socket without DISCONNECT; false if there is none. */
	cut(): boolean {
		const socket = this.#current?.socket;
		socket?.destroy();
		return socket !== undefined;
	}
}
