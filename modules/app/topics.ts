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
	};
}
