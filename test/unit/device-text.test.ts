/*
 * decodeAsDevice (node/device-text.ts) accepts and refuses what XS's
 * String.fromArrayBuffer does: structurally valid UTF-8 decodes, anything else is
 * NOT_UTF8, which the core answers E_PARSE.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeAsDevice } from "../../node/device-text";
import { NOT_UTF8 } from "../../modules/app/ports";
import { parseCommand } from "../../modules/app/commands/parse";

const bytes = (...values: number[]) => Uint8Array.from(values);

test("device text: valid UTF-8 decodes, 1 to 4 byte sequences and NUL", () => {
	assert.equal(decodeAsDevice(Buffer.from("{\"id\":\"é€😀\"}")), "{\"id\":\"é€😀\"}");
	assert.equal(decodeAsDevice(bytes(0x61, 0x00, 0x62)), "a\u0000b");
	assert.equal(decodeAsDevice(bytes()), "");
});

test("device text: a stray continuation byte, a bad lead byte, a cut sequence are NOT_UTF8", () => {
	for (const bad of [bytes(0x80), bytes(0x61, 0xff), bytes(0xc3), bytes(0xe2, 0x82), bytes(0xf0, 0x9f, 0x98), bytes(0xc3, 0x41)])
		assert.equal(decodeAsDevice(bad), NOT_UTF8, `${[...bad]}`);
});

test("device text: NOT_UTF8 is an E_PARSE command with no id", () => {
	const parsed = parseCommand(decodeAsDevice(Buffer.alloc(400, 0xff)));
	assert.equal(parsed.error?.code, "E_PARSE");
	assert.equal(parsed.id, null);
});
