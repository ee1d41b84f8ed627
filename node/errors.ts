/*
 * How a Node socket, TLS or HTTP error reads in the core's reasons and logs: its
 * message, plus its code (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID, an MQTT reason
 * number...) when the message does not already say it.
 */

export function describeError(error: Error & { code?: string | number }): string {
	const code = error.code === undefined ? "" : String(error.code);
	return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
