/*
 * NodeTransport: the core's Transport (modules/app/ports.ts) over the `mqtt` npm client,
 * MQTT 3.1.1 on node:tls, as the device does it over securesocket.
 *
 * - Trusts only the given roots (the bundled DER files, converted to PEM; several
 *   during a CA rotation) and offers only what the board offers (device-tls.ts: TLS
 *   1.2, RSA key exchange, SAN-only name check); optional client certificate and
 *   user/password. Clean session, the will from SessionOptions (QoS 0), no reconnects
 *   of its own (the core reconnects) and no connect timeout of its own (the core has one).
 * - A CONNACK with a non-zero return code is reported as onRefused(code), as on XS.
 * - The constructor throws ClientIdentityError when the client certificate and key
 *   cannot be used together (a config problem); no transport error is ever thrown
 *   out of an event (a synchronous throw of tls.connect ends the session instead).
 * - As on the board: publish throws for a message larger than the XS transport writes
 *   at all (app/limits MAX_MESSAGE; over MAX_WRITE it writes in pieces), and payloads
 *   are decoded as XS decodes them (device-text.ts: not UTF-8 arrives as NOT_UTF8,
 *   which the core answers E_PARSE).
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
import { createSecureContext, type TLSSocket } from "node:tls";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Session, SessionEvents, SessionOptions, Transport } from "../modules/app/ports";
import { MAX_MESSAGE, publishSize } from "../modules/app/limits";
import { decodeAsDevice } from "./device-text";
import { deviceTls } from "./device-tls";
import { describeError } from "./errors";

export interface NodeTransportOptions {
	/** The broker's name as its certificate states it; also where to connect. */
	host: string;
	port: number;
	/** Paths of the trusted root CAs, DER (as bundled for the device) or PEM. */
	caFiles: string[];
	/** Paths of a client certificate and its key for mutual TLS (DER or PEM). */
	clientCertFile?: string;
	clientKeyFile?: string;
	/** A client certificate and PKCS#8 key stored by setup mode (DER); replaces the files. */
	clientIdentity?: { certificate: Uint8Array; key: Uint8Array };
	/** Report each message's RETAIN flag (default true); false behaves like the XS client, which cannot. */
	reportRetain?: boolean;
}

/** Reads a certificate file, DER or PEM, as PEM. */
export function certificatePem(path: string): string {
	const data = readFileSync(path);
	return data.subarray(0, 10).toString("latin1").startsWith("-----") ? data.toString("utf8") : new X509Certificate(data).toString();
}

export function privateKeyPem(path: string): string {
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

/** The client certificate and key cannot be used together: a config problem. */
export class ClientIdentityError extends Error {}

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
	#refusal = 0;	// the CONNACK return code when the broker refused

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
				events.onMessage(topic, decodeAsDevice(payload), reportRetain ? packet.retain : undefined);
		});
		client.on("packetreceive", packet => {
			if (packet.cmd === "connack" && !this.#ready && packet.returnCode)
				this.#refusal = packet.returnCode;
		});
		// The first error is the reason; the "close" that follows reports it.
		client.on("error", error => { this.#error ??= describeError(error); });
		client.on("close", () => this.#finish(this.#error ?? (this.#ready ? "connection closed by the broker" : "connection closed before CONNACK")));
		// Connect on the next turn: no callback may fire inside open(). tls.connect throws
		// synchronously for some bad settings: that ends this session, never the process.
		setImmediate(() => {
			if (this.#ended)
				return;
			try {
				client.connect();
			}
			catch (error) {
				this.#finish(`cannot connect: ${describeError(error as Error)}`);
				return;
			}
			const socket = client.stream as TLSSocket;
			socket.on("session", session => tls.save(session));
			socket.once("secureConnect", () => tls.connected(socket.isSessionReused()));
		});
	}

	get socket(): { destroy(): void } | undefined {
		return this.#ended ? undefined : this.#client.stream;
	}

	/** The TLS version and cipher the session negotiated (for tests: is it what the board would?). */
	get negotiated(): { protocol: string | null; cipher: string } | undefined {
		const stream = this.#client.stream as Partial<TLSSocket> | undefined;
		if (this.#ended || !stream?.getProtocol || !stream.getCipher)
			return undefined;
		return { protocol: stream.getProtocol(), cipher: stream.getCipher().name };
	}

	publish(topic: string, payload: string, retain: boolean): boolean {
		this.#requireConnected();
		const size = publishSize(topic, payload);
		if (size > MAX_MESSAGE)
			throw new Error(`message of ${size} bytes exceeds what the device writes (${MAX_MESSAGE})`);
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
		if (this.#refusal)
			this.#events.onRefused(this.#refusal);
		else
			this.#events.onClose(detail);
	}
}

export class NodeTransport implements Transport {
	readonly #options: NodeTransportOptions;
	readonly #ca: string[];
	readonly #cert: string | undefined;
	readonly #key: string | undefined;
	#current: NodeSession | undefined;
	#tlsSession: Buffer | undefined;
	/** Handshakes that resumed the previous TLS session. */
	resumed = 0;

	constructor(options: NodeTransportOptions) {
		this.#options = options;
		this.#ca = options.caFiles.map(certificatePem);
		const stored = options.clientIdentity;
		this.#cert = stored ? new X509Certificate(Buffer.from(stored.certificate)).toString()
			: options.clientCertFile ? certificatePem(options.clientCertFile) : undefined;
		this.#key = stored ? createPrivateKey({ key: Buffer.from(stored.key), format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString()
			: options.clientKeyFile ? privateKeyPem(options.clientKeyFile) : undefined;
		if (this.#cert || this.#key) {
			try {
				createSecureContext({ cert: this.#cert, key: this.#key });
			}
			catch (error) {
				throw new ClientIdentityError(`the key does not match the certificate, or cannot be used with it (${describeError(error as Error)})`);
			}
		}
	}

	open(options: SessionOptions, events: SessionEvents): Session {
		const { host, port } = this.#options;
		// The TLS settings are passed through to tls.connect; IClientOptions does not list them all.
		const connectOptions: IClientOptions & typeof deviceTls & { session?: Buffer } = {
			protocol: "mqtts",
			host,
			port,
			servername: host,
			ca: this.#ca,
			cert: this.#cert,
			key: this.#key,
			rejectUnauthorized: true,
			...deviceTls,
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

	/** The current session's TLS version and cipher, while it is open. */
	negotiated(): { protocol: string | null; cipher: string } | undefined {
		return this.#current?.negotiated;
	}

	/** Destroys the current session's socket without DISCONNECT; false if there is none. */
	cut(): boolean {
		const socket = this.#current?.socket;
		socket?.destroy();
		return socket !== undefined;
	}
}
