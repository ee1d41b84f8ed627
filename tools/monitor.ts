/*
 * startMonitor: `npm start`'s subscriber on <prefix>/+/#, printing LiveView's lines
 * (tools/live-view.ts): one line per event, commands with their results.
 *
 * - Losing the broker is said once (with the reason) and getting it back once; the
 *   client's failed reconnects in between (every second) are not printed.
 * - Every second it reports the commands that got no answer (LiveView.expire()).
 * - Payloads are decoded as the device decodes them (node/device-text.ts): bytes that
 *   are not UTF-8 are one NOT_UTF8 character, as the device's command parser sees them.
 * - onBirth(id, fw) is called for every birth (a status with online true).
 */

import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions } from "mqtt";
import { LiveView } from "./live-view";
import { decodeAsDevice } from "../node/device-text";

export interface MonitorOptions {
	port: number;
	caPem: string;		// path of the CA that signed the broker's certificate
	say: (line: string) => void;
	prefix?: string;	// default "devices"
	host?: string;		// default "localhost"
	/** The operator's login on a broker that requires one (client certificate or password). */
	login?: Partial<IClientOptions>;
	/** Each birth seen: the device id and the firmware version it runs. */
	onBirth?: (id: string, fw: string) => void;
}

export interface Monitor {
	stop(): Promise<void>;
}

export function startMonitor(options: MonitorOptions): Monitor {
	const { say } = options;
	const prefix = options.prefix ?? "devices";
	const view = new LiveView({ prefix });
	const client = mqtt.connect({
		protocol: "mqtts", host: options.host ?? "localhost", port: options.port, ca: readFileSync(options.caPem),
		protocolVersion: 4, reconnectPeriod: 1_000, clientId: `npm-start-monitor-${process.pid}`,
		...options.login,
	});
	let connected = false;
	let lost = false;	// the loss was said; quiet until connected again
	const lose = (why: string) => {
		if (lost)
			return;
		lost = true;
		say(`monitor: ${why}; reconnecting every second (quietly)`);
	};
	client.on("error", error => lose(error.message));
	client.on("close", () => {
		if (connected)
			lose("the broker closed the connection");
		connected = false;
	});
	client.on("connect", () => {
		connected = true;
		if (lost)
			say("monitor: connected again");
		lost = false;
		client.subscribe(`${prefix}/+/#`, { qos: 0 });
	});
	client.on("message", (topic, payload, packet) => {
		// Decoded as the device decodes it, so the view reads the id the device reads.
		const line = view.feed(topic, decodeAsDevice(payload), packet.retain);
		if (line !== undefined)
			say(line);
		const birth = topic.endsWith("/status") ? parseBirth(payload.toString("utf8")) : undefined;
		if (birth !== undefined)
			options.onBirth?.(topic.slice(prefix.length + 1, -"/status".length), birth);
	});
	const expiry = setInterval(() => { for (const line of view.expire()) say(line); }, 1_000);
	return {
		async stop() {
			clearInterval(expiry);
			lost = true;	// closing it ourselves is not news
			await client.endAsync(true).catch(() => undefined);
		},
	};
}

/** The fw of a birth message, else undefined. */
function parseBirth(payload: string): string | undefined {
	try {
		const status = JSON.parse(payload) as { online?: unknown; fw?: unknown };
		return status.online === true && typeof status.fw === "string" ? status.fw : undefined;
	}
	catch {
		return undefined;
	}
}
