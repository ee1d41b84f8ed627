/*
 * setup-server: the setup mode's HTTP server on XS, over the SDK's `socket` Listener.
 *
 * - Each connection feeds a RequestReader (app/setup/http-request: 16 KB limit, 413 as
 *   soon as a request is known to be larger) and gets one answer from the SetupHandler,
 *   written as the socket takes it, then the connection is closed (no keep-alive).
 * - A client that has not sent a whole request CLIENT_TIMEOUT ms after connecting is
 *   closed; at most MAX_CONNECTIONS at once (more are closed at once): a slow or huge
 *   request never stops the server answering others.
 * - Idle: `timeout` ms without a request closes the server; onIdle() tells the device.
 * - After a 200 to POST /settings the server closes and onSaved() restarts the device.
 * - A closed socket stays referenced for LINGER ms: the simulator's socket reads its JS
 *   object after it was closed inside its callback, and a garbage collection in
 *   between crashes mcsim (the same bug tls-socket works around; seen here as a
 *   segfault after a large POST).
 * Why not the SDK's `http` Server: it keeps a header line that never ends in memory
 * whole (a 1 MB header line would exhaust a board's heap) and reads a body it will
 * refuse to the end before answering.
 */

import { Listener, Socket } from "socket";
import type { Log, Timers, TimerHandle } from "app/ports";
import { CONTINUE, RequestReader } from "app/setup/http-request";
import type { SetupAnswer, SetupHandler } from "app/setup/setup-handler";

export interface SetupServerOptions {
	port: number;
	handler: SetupHandler;
	/** ms without a request before the server closes. */
	timeout: number;
	timers: Timers;
	log: Log;
	onSaved(): void;
	onIdle(): void;
}

export const CLIENT_TIMEOUT = 10_000;	// ms to send one whole request
const MAX_CONNECTIONS = 4;
const LINGER = 5_000;	// ms a closed socket stays referenced
const REASONS: Record<number, string> = Object.freeze({ 200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error" });

interface Connection {
	socket: Socket;
	reader: RequestReader;
	timer: TimerHandle;
	pending: Uint8Array | undefined;	// the answer's bytes not yet written
	answered: boolean;
	restart: boolean;
}

function responseBytes(answer: SetupAnswer): Uint8Array {
	const body = new Uint8Array(ArrayBuffer.fromString(answer.body));
	const head = `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? "Error"}\r\nContent-Type: ${answer.contentType}\r\n` +
		`Content-Length: ${body.length}\r\nCache-Control: no-store\r\nConnection: close\r\n` +
		(answer.retryAfter ? `Retry-After: ${answer.retryAfter}\r\n` : "") + "\r\n";
	const headBytes = new Uint8Array(ArrayBuffer.fromString(head));
	const bytes = new Uint8Array(headBytes.length + body.length);
	bytes.set(headBytes);
	bytes.set(body, headBytes.length);
	return bytes;
}

export function startSetupServer(options: SetupServerOptions): { close(): void } {
	const { handler, timers, log } = options;
	const connections = new Set<Connection>();
	let listener: Listener | undefined = new Listener({ port: options.port });
	let idle: TimerHandle = timers.set(() => closeServer("idle"), options.timeout);

	let saved = false;
	const lingering = new Set<Socket>();
	const close = (socket: Socket) => {
		lingering.add(socket);
		timers.set(() => lingering.delete(socket), LINGER);
		try { socket.close(); } catch { /* already closed */ }
	};
	const drop = (connection: Connection) => {
		timers.clear(connection.timer);
		connections.delete(connection);
		close(connection.socket);
		// The 200 is out (or its client left): restart into normal mode.
		if (connection.restart && !saved) {
			saved = true;
			closeServer("saved");
			options.onSaved();
		}
	};

	const closeServer = (why: "idle" | "saved") => {
		if (!listener)
			return;
		timers.clear(idle);
		(listener as unknown as { close(): void }).close();
		listener = undefined;
		for (const connection of connections)
			drop(connection);
		if (why === "idle") {
			log(`setup: closed after ${options.timeout} ms without a request; restart the device to open it again`);
			options.onIdle();
		}
	};

	const flush = (connection: Connection) => {
		const pending = connection.pending;
		if (!pending)
			return;
		const room = connection.socket.write();
		if (room <= 0)
			return;
		const piece = pending.subarray(0, room);
		connection.socket.write(piece.slice().buffer);
		connection.pending = pending.length > room ? pending.subarray(room) : undefined;
	};

	const answer = (connection: Connection, reply: SetupAnswer) => {
		connection.answered = true;
		connection.restart = reply.restart === true;
		connection.pending = responseBytes(reply);
		timers.clear(idle);
		idle = timers.set(() => closeServer("idle"), options.timeout);
		flush(connection);
	};

	const receive = (connection: Connection) => {
		const bytes = new Uint8Array(connection.socket.read(ArrayBuffer));
		if (connection.answered)
			return;	// anything after the request is not read
		const result = connection.reader.feed(bytes);
		if (result.kind === "continue")
			connection.socket.write(CONTINUE);
		else if (result.kind === "refused")
			answer(connection, handler.refused(result.status, result.reason));
		else if (result.kind === "request") {
			const { request } = result;
			let body: string | undefined;
			try { body = String.fromArrayBuffer(request.body.slice().buffer); }
			catch { body = undefined; }	// not UTF-8
			answer(connection, handler.handle({ method: request.method, path: request.path, authorization: request.headers.authorization, body }));
		}
	};

	listener.callback = () => {
		if (!listener)
			return;
		const socket = new Socket({ listener });
		if (connections.size >= MAX_CONNECTIONS) {
			close(socket);
			return;
		}
		const connection: Connection = { socket, reader: new RequestReader(), timer: undefined, pending: undefined, answered: false, restart: false };
		connection.timer = timers.set(() => {
			log(`setup: a client sent no whole request in ${CLIENT_TIMEOUT} ms: closed`);
			drop(connection);
		}, CLIENT_TIMEOUT);
		connections.add(connection);
		socket.callback = (message: number) => {
			try {
				if (message === 2)
					receive(connection);
				else if (message === 3) {
					if (connection.pending)
						flush(connection);
					else if (connection.answered)
						drop(connection);
				}
				else if (message < 0)
					drop(connection);
			}
			catch (error) {
				log(`setup: connection dropped: ${error}`);
				drop(connection);
			}
		};
	};
	return { close: () => closeServer("saved") };
}
