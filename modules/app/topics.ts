/*
 * Topics: the device's MQTT topic names, derived once from prefix and id.
 * The table in the README lists them; change both together.
 */

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
