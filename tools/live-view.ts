/*
 * LiveView: `npm start`'s operator console, one readable line per event on the
 * devices' topics (<prefix>/<id>/...), never cut.
 *
 * - feed(topic, payload, retained) returns the line to print for one message, or
 *   undefined for what is not worth a line: the device's own `sync` markers and the
 *   empty retained message with which it deletes a stale command.
 * - Per device it keeps what the messages imply (online, fw, boot, pins, the last
 *   reading) and prints it as it changes: status and state lines say the whole state,
 *   readings their values.
 * - A command is not printed when it is sent: it waits for its result, and the two
 *   are printed together on one line ("c-1 gpio.set pin=led value=1 -> ok value=1").
 *   A plain `gpio/<name>/set` payload is a command too (its result has id null).
 *   Results are matched by the id the device echoes, which the core's own parser
 *   reads from the payload (answerId): null for a payload it cannot read an id
 *   from (too large, not JSON, an id of the wrong shape such as ""). Null-id results
 *   are matched in order (the device answers in order). expire() prints the commands
 *   that got no answer within `answerTimeout` ms; a command answered is never expired.
 * - Values are shown as key=value; nested objects as compact JSON.
 * Limits: one process's view; a command published before the view subscribed is
 * shown only as its result.
 */

import { answerId } from "../modules/app/commands/channel";
import type { CommandId } from "../modules/app/commands/result";
import { NOT_UTF8 } from "../modules/app/ports";

export interface LiveViewOptions {
	prefix?: string;			// default "devices"
	answerTimeout?: number;		// ms, default 10_000
	now?: () => number;			// ms, default Date.now (tests)
}

interface PendingCommand {
	id: CommandId;	// what the device echoes in its result
	text: string;	// how the command is shown
	sent: number;	// ms
}

interface DeviceView {
	online?: boolean;
	fw?: string;
	boot?: number;
	gpio?: Record<string, unknown>;
	pending: PendingCommand[];
}

type Json = Record<string, unknown>;

function parseObject(payload: string): Json | undefined {
	try {
		const value: unknown = JSON.parse(payload);
		return value && typeof value === "object" && !Array.isArray(value) ? value as Json : undefined;
	}
	catch {
		return undefined;
	}
}

/** `a=1 b="x y" c={"d":2}`: every field but the ones named in `skip`. */
export function fields(object: Json, skip: string[] = []): string {
	return Object.entries(object)
		.filter(([key]) => !skip.includes(key))
		.map(([key, value]) => `${key}=${typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`)
		.join(" ");
}

export class LiveView {
	readonly #prefix: string;
	readonly #answerTimeout: number;
	readonly #now: () => number;
	readonly #devices = new Map<string, DeviceView>();

	constructor(options: LiveViewOptions = {}) {
		this.#prefix = options.prefix ?? "devices";
		this.#answerTimeout = options.answerTimeout ?? 10_000;
		this.#now = options.now ?? Date.now;
	}

	/** The line for one message, or undefined when it is not shown. */
	feed(topic: string, payload: string, retained = false): string | undefined {
		const parts = topic.split("/");
		const prefixParts = this.#prefix.split("/").length;
		if (topic.slice(0, this.#prefix.length + 1) !== this.#prefix + "/" || parts.length < prefixParts + 2)
			return `${topic} ${payload}`;
		const id = parts[prefixParts];
		const kind = parts.slice(prefixParts + 1).join("/");
		const device = this.#device(id);
		const line = this.#describe(device, kind, payload, retained);
		return line === undefined ? undefined : `${id} ${line}`;
	}

	/** Lines for the commands that waited longer than answerTimeout for a result. */
	expire(): string[] {
		const lines: string[] = [];
		const now = this.#now();
		for (const [id, device] of this.#devices)
			while (device.pending.length && now - device.pending[0].sent >= this.#answerTimeout) {
				const command = device.pending.shift()!;
				lines.push(`${id} cmd ${command.text} -> no answer in ${Math.round(this.#answerTimeout / 1000)} s`);
			}
		return lines;
	}

	#device(id: string): DeviceView {
		let device = this.#devices.get(id);
		if (!device) {
			device = { pending: [] };
			this.#devices.set(id, device);
		}
		return device;
	}

	#describe(device: DeviceView, kind: string, payload: string, retained: boolean): string | undefined {
		const message = parseObject(payload);
		const old = retained ? " (retained)" : "";
		if (/^gpio\/[^/]+\/set$/.test(kind)) {
			// A plain output command, answered with id null; an empty one is the device deleting
			// a retained one (it ignores empty payloads).
			if (payload.length > 0)
				device.pending.push({ id: null, text: `${kind} ${JSON.stringify(payload)}`, sent: this.#now() });
			return undefined;
		}
		switch (kind) {
		case "sync":
			return undefined;
		case "cmd":
			if (payload.length === 0)
				return undefined;	// the device deleting a retained command
			device.pending.push({ id: answerId(payload), text: this.#commandText(message, payload), sent: this.#now() });
			return undefined;
		case "cmd/result":
			return message ? this.#result(device, message) : `result (unreadable) ${payload}`;
		case "status":
			if (!message)
				break;
			device.online = message.online === true;
			if (device.online) {
				device.fw = String(message.fw);
				device.boot = Number(message.boot);
				return `online fw ${device.fw} boot ${device.boot} (${message.reason})${old}`;
			}
			return `offline${old}`;
		case "state":
			if (!message || typeof message.gpio !== "object" || message.gpio === null)
				break;
			device.gpio = message.gpio as Record<string, unknown>;
			return `pins ${fields(device.gpio)}${old}`;
		case "telemetry":
			if (!message || typeof message.values !== "object" || message.values === null)
				break;
			return `reading ${message.boot}:${message.seq} ${fields(message.values as Json)}`;
		case "ota":
			if (!message)
				break;
			return `ota ${message.version} ${message.state}${this.#otaDetail(message)}`;
		}
		return `${kind} ${payload}${old}`;
	}

	#commandText(message: Json | undefined, payload: string): string {
		if (payload === NOT_UTF8)
			return "(not UTF-8)";
		if (!message)
			return `(not an object: ${JSON.stringify(payload.length > 80 ? payload.slice(0, 80) + "..." : payload)})`;
		const id = message.id === undefined ? "(no id)" : typeof message.id === "string" && message.id ? message.id : JSON.stringify(message.id);
		const args = fields(message, ["id", "op"]);
		return `${id} ${typeof message.op === "string" ? message.op : JSON.stringify(message.op)}${args ? " " + args : ""}`;
	}

	#result(device: DeviceView, result: Json): string {
		const id = result.id ?? null;
		const index = device.pending.findIndex(command => command.id === id);
		const command = index >= 0 ? device.pending.splice(index, 1)[0] : undefined;
		const shown = command ? `${command.text} (${this.#now() - command.sent} ms)` : `${id === null ? "(unmatched)" : JSON.stringify(id)} (command not seen)`;
		if (result.ok === true) {
			const rest = fields(result, ["id", "ok"]);
			return `cmd ${shown} -> ok${rest ? " " + rest : ""}`;
		}
		const error = (result.error ?? {}) as Json;
		return `cmd ${shown} -> ${error.code} ${error.message}`;
	}

	#otaDetail(message: Json): string {
		const received = Number(message.received);
		const total = Number(message.total);
		const kib = (n: number) => (n / 1024).toFixed(1);
		let detail = total > 0 ? ` ${Math.floor(received / total * 100)}% (${kib(received)}/${kib(total)} KiB)` : "";
		const error = message.error as Json | undefined;
		if (error)
			detail += ` ${error.code} ${error.message}`;
		return detail;
	}
}
