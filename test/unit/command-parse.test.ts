import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_PAYLOAD_BYTES, exceedsDepth, parseCommand } from "../../modules/app/commands/parse";
import { describe as quote, utf8Length } from "../../modules/app/commands/result";
import { NOT_UTF8, TOO_LARGE } from "../../modules/app/ports";

test("parse: a command object with id and op", () => {
	const parsed = parseCommand("{\"id\":\"c-1\",\"op\":\"gpio.set\",\"pin\":\"led\",\"value\":1}");
	assert.equal(parsed.error, undefined);
	assert.equal(parsed.id, "c-1");
	assert.equal(parsed.op, "gpio.set");
	assert.deepEqual(parsed.args, { id: "c-1", op: "gpio.set", pin: "led", value: 1 });
});

test("parse: exactly the size limit is accepted, one byte more is E_TOO_LARGE", () => {
	const base = "{\"op\":\"status\",\"p\":\"\"}";
	const fits = base.replace("\"\"", `"${"x".repeat(MAX_PAYLOAD_BYTES - base.length)}"`);
	assert.equal(fits.length, MAX_PAYLOAD_BYTES);
	assert.equal(parseCommand(fits).error, undefined);
	assert.equal(parseCommand(fits.replace("\"x", "\"xx")).error?.code, "E_TOO_LARGE");
});

test("parse: the depth scan counts brackets outside strings only", () => {
	assert.equal(exceedsDepth("{\"a\":{\"b\":[[1]]}}", 4), false);
	assert.equal(exceedsDepth("{\"a\":{\"b\":[[[1]]]}}", 4), true);
	assert.equal(exceedsDepth("{\"a\":\"[[[[[[{{{{{\"}", 4), false);
	assert.equal(exceedsDepth("{\"a\":\"\\\"[[[[[[\"}", 4), false, "an escaped quote does not end the string");
	assert.equal(exceedsDepth("{\"a\":\"\\\\\",\"b\":[[[[1]]]]}", 4), true, "an escaped backslash does");
	assert.equal(exceedsDepth("]]]]]]]][[[[[", 4), true, "stray closers buy no depth");
	assert.equal(exceedsDepth("[]".repeat(400), 1), false);
	assert.equal(parseCommand("{\"id\":\"[[[[[\",\"op\":\"status\"}").error, undefined);
});

test("parse: duplicate keys, __proto__ and unicode are handled as JSON does", () => {
	const parsed = parseCommand("{\"id\":\"a\",\"op\":\"x\",\"op\":\"status\",\"__proto__\":{\"op\":\"restart\"}}");
	assert.equal(parsed.op, "status");
	assert.equal(Object.hasOwn(parsed.args!, "__proto__"), true);
	assert.equal(parseCommand("{\"id\":\"\u00e9\u{1f600}\",\"op\":\"s\"}").id, "\u00e9\u{1f600}");
});

test("result helpers: UTF-8 length and short quoting", () => {
	for (const text of ["", "abc", "é", "€", "\u{1f600}", "a\u{1f600}é€", "\ud800"])
		assert.equal(utf8Length(text), Buffer.byteLength(text), JSON.stringify(text));
	assert.equal(quote("x".repeat(100)).length, 32 + 5);
	assert.equal(quote([1]), "an array");
	assert.equal(quote({}), "an object");
	assert.equal(quote(null), "null");
});

test("parse: a payload that is not UTF-8 is E_PARSE saying UTF-8; bad JSON says JSON", () => {
	const notUtf8 = parseCommand(NOT_UTF8);
	assert.equal(notUtf8.error?.code, "E_PARSE");
	assert.match(notUtf8.error!.message, /UTF-8/);
	const notJson = parseCommand("{\"id\":");
	assert.equal(notJson.error?.code, "E_PARSE");
	assert.equal(notJson.error!.message, "payload is not valid JSON");
});

test("parse: a message the transport did not read (TOO_LARGE) is E_TOO_LARGE with id null", () => {
	const parsed = parseCommand(TOO_LARGE);
	assert.equal(parsed.id, null);
	assert.equal(parsed.error?.code, "E_TOO_LARGE");
});
