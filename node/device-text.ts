/*
 * decodeAsDevice: a received payload turned into text exactly where XS would, so a
 * command that the device answers E_PARSE is E_PARSE on Node too.
 *
 * - XS's String.fromArrayBuffer (xs/sources/xsString.c) walks the bytes: a lead byte
 *   0xxxxxxx, 110xxxxx, 1110xxxx or 11110xxx followed by that many 10xxxxxx bytes;
 *   anything else, or a sequence cut by the end, throws "invalid UTF-8". mqtt-tls then
 *   hands on NOT_UTF8. Node's Buffer#toString would instead put U+FFFD in place of
 *   each bad byte and carry on (a mangled id executed, a binary payload E_TOO_LARGE).
 * Limits: sequences the XS walk accepts but UTF-8 forbids (overlong forms, encoded
 * surrogates, values past U+10FFFF) are decoded by Node's rules here.
 */

import { NOT_UTF8 } from "../modules/app/ports";

export function decodeAsDevice(bytes: Uint8Array): string {
	for (let i = 0; i < bytes.length;) {
		const first = bytes[i++];
		if (first < 0x80)
			continue;
		const length = (first & 0xe0) === 0xc0 ? 2 : (first & 0xf0) === 0xe0 ? 3 : (first & 0xf0) === 0xf0 ? 4 : 0;
		if (length === 0 || i + length - 1 > bytes.length)
			return NOT_UTF8;
		for (let k = 1; k < length; k++)
			if ((bytes[i++] & 0xc0) !== 0x80)
				return NOT_UTF8;
	}
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
