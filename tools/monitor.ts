/*
 * startMonitor: `npm start`'s subscriber on <prefix>/+/#, printing LiveView's lines
 * (tools/live-view.ts): one line per event, commands with their results.
 *
 * - Losing the broker is said once (with the reason) and getting it back once; the
 *   client's failed reconnects in between (every second) are not printed.
 * - Every second it reports the commands that got no answer (LiveView.expire()).
 */

import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions } from "mqtt";
import { LiveView } from "./live-view";

export interface MonitorOptions {
	port: number;
	caPem: string;		// path of the CA that signed the broker's certificate
	say: (line: string) => void;
	prefix?: string;	// default "devices"
	host?: string;		// default "localhost"
	/** The operator's login on a broker that requires one (client certificate or password). */
	login?: Partial<IClientOptions>;
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
		const line = view.feed(topic, payload.toString("utf8"), packet.retain);
		if (line !== undefined)
			say(line);
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
