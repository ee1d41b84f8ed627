/*
 * Topics: the device's MQTT topic names, derived once from prefix and id.
 * The table in the README lists them; change both together.
 * - longestTopic() is the byte length of the longest of them, which config checks
 *   against limits.ts MAX_TOPIC; levelProblem() is what a broker will not serve in a
 *   prefix or id (config/config.ts names the key).
 */

import { utf8Length } from "../limits";

export interface Topics {
	status: string;		// retained birth / will
	telemetry: string;	// readings
	state: string;		// retained pin states
	command: string;	// incoming commands
	result: string;		// command answers
	ota: string;		// update progress
	sync: string;		// the device's own delivery-confirmation marker
	gpioSet: string;	// subscription filter of the plain output commands, "<base>/gpio/+/set"
}

export function makeTopics(prefix: string, id: string): Topics {
	const base = `${prefix}/${id}`;
	return {
		status: `${base}/status`,
		telemetry: `${base}/telemetry`,
		state: `${base}/state`,
		command: `${base}/cmd`,
		result: `${base}/cmd/result`,
		ota: `${base}/ota`,
		sync: `${base}/sync`,
		gpioSet: `${base}/gpio/+/set`,
	};
}

/** UTF-8 bytes of the longest topic the device uses with this prefix and id. */
export function longestTopic(prefix: string, id: string): number {
	return Math.max(...Object.values(makeTopics(prefix, id)).map(utf8Length));
}

/**
 * Why a broker would not serve topics starting with `text`, or undefined. Control
 * characters (MQTT forbids U+0000 and brokers close the connection for the others), a
 * lone surrogate (not encodable as UTF-8), the wildcards + and #, and a leading $
 * (the broker's own $SYS and $share topics: nothing the device publishes there comes
 * back to it).
 */
export function levelProblem(text: string): string | undefined {
	if (text === "")
		return "is empty";
	if (text.startsWith("$"))
		return "starts with $ (reserved for the broker: $SYS, $share)";
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
			return `contains the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
		if (code === 0x2b || code === 0x23)
			return `contains the wildcard ${String.fromCharCode(code)}`;
		if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00)
			i++;	// a surrogate pair: one valid character
		else if (code >= 0xd800 && code <= 0xdfff)
			return "contains a lone surrogate (not valid UTF-8)";
	}
	return undefined;
}

/** The plain command topic of one output: "<prefix>/<id>/gpio/<name>/set". */
export function outputSetTopic(topics: Topics, name: string): string {
	return topics.gpioSet.slice(0, -"+/set".length) + name + "/set";
}

/** The output named by a plain command topic, or undefined for any other topic. */
export function outputOfSetTopic(topics: Topics, topic: string): string | undefined {
	const head = topics.gpioSet.slice(0, -"+/set".length);
	if (!topic.startsWith(head) || !topic.endsWith("/set"))
		return undefined;
	const name = topic.slice(head.length, -"/set".length);
	return name && !name.includes("/") ? name : undefined;
}
