/*
 * Limits: the size of what one MQTT publish may carry, the one owner of these numbers.
 *
 * - MAX_WRITE: bytes of one PUBLISH packet, MQTT header included. The device hands a
 *   message to securesocket in one write, which carries about 900 bytes of plaintext
 *   (its send buffer less 128 bytes of TLS overhead); the transports (mqtt-tls on XS,
 *   node/transport on Node) refuse anything larger.
 * - A PUBLISH of a QoS 0 message is PUBLISH_OVERHEAD bytes plus topic plus payload
 *   (fixed header 1, remaining length 2 below 16 KB, topic length 2).
 * - MAX_MESSAGE: the largest message written at all; only the Home Assistant discovery
 *   message exceeds MAX_WRITE, and the XS transport writes it in MAX_WRITE pieces.
 * - MAX_PAYLOAD: the largest payload the device publishes (a command result; state,
 *   readings and update progress are smaller).
 * - MAX_TOPIC: what is left for the longest topic; config refuses a topicPrefix and
 *   deviceId whose topics would not fit (config/config.ts, connection/topics.ts).
 * - Sizes are UTF-8 bytes, what goes on the wire: utf8Length() counts them (TextEncoder
 *   is not part of the language on XS).
 * - MAX_RECEIVE: the largest incoming PUBLISH (topic and payload: MQTT's remaining
 *   length) the XS transport reads. A larger one is skipped as its bytes arrive, never
 *   held, and handed on as ports.ts TOO_LARGE: the SDK's client would allocate it whole
 *   before anything here could look at it. Above everything the device takes in: a
 *   command or a release is at most 1,024 bytes of payload (commands/parse.ts,
 *   updates/release.ts), its topic at most MAX_TOPIC.
 * - exceedsDepth(): how deep incoming JSON nests, counted by a flat scan before
 *   JSON.parse sees it: XS's parser recurses on the native stack, and deep input aborts
 *   the VM (commands and fleet releases both check it).
 */

export const MAX_WRITE = 850;
export const PUBLISH_OVERHEAD = 5;
export const MAX_MESSAGE = 7_168;
export const MAX_PAYLOAD = 640;
export const MAX_TOPIC = MAX_WRITE - PUBLISH_OVERHEAD - MAX_PAYLOAD;	// 205 bytes
export const MAX_RECEIVE = 2_048;

/** Bytes of a PUBLISH packet carrying `topic` and `payload`. */
export function publishSize(topic: string, payload: string): number {
	return PUBLISH_OVERHEAD + utf8Length(topic) + utf8Length(payload);
}

/** UTF-8 byte length of a string. */
export function utf8Length(text: string): number {
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (code < 0x80)
			bytes += 1;
		else if (code < 0x800)
			bytes += 2;
		else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
			bytes += 4;	// a surrogate pair is one 4-byte character
			i++;
		}
		else
			bytes += 3;
	}
	return bytes;
}

/** True if brackets or braces outside strings nest deeper than `limit`. */
export function exceedsDepth(text: string, limit: number): boolean {
	let depth = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c)			// backslash: the next character is escaped
				i++;
			else if (c === 0x22)	// closing quote
				inString = false;
		}
		else if (c === 0x22)
			inString = true;
		else if (c === 0x5b || c === 0x7b) {	// [ {
			if (++depth > limit)
				return true;
		}
		else if ((c === 0x5d || c === 0x7d) && depth > 0)	// ] }: a stray closer must not buy depth
			depth--;
	}
	return false;
}
