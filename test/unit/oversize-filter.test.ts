/*
 * OversizeFilter (the XS transport's guard in front of the SDK's mqtt parser): an
 * incoming PUBLISH over the limit is taken out of the stream whole, however the bytes
 * are split, reported once with its topic and declared length, and everything else
 * passes through unchanged and in order.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { OversizeFilter } from "../../modules/mqtt-tls/oversize";

function remainingLength(length: number): number[] {
	const bytes: number[] = [];
	do {
		const digit = length % 128;
		length = Math.floor(length / 128);
		bytes.push(length ? digit | 0x80 : digit);
	} while (length);
	return bytes;
}

function publish(topic: string, payloadLength: number): Uint8Array {
	const name = Buffer.from(topic);
	const body = [name.length >> 8, name.length & 0xff, ...name, ...new Array(payloadLength).fill(0x61)];
	return Uint8Array.from([0x30, ...remainingLength(body.length), ...body]);
}

const CONNACK = Uint8Array.of(0x20, 0x02, 0x00, 0x00);
const PINGRESP = Uint8Array.of(0xd0, 0x00);

function run(packets: Uint8Array[], chunk: number, max = 2_048, topicMax = 256) {
	const stream = Buffer.concat(packets);
	const forwarded: Buffer[] = [];
	const skipped: [string, number][] = [];
	const filter = new OversizeFilter({
		max, topicMax,
		forward: bytes => forwarded.push(Buffer.from(bytes)),
		skipped: (topic, length) => skipped.push([Buffer.from(topic).toString(), length]),
	});
	for (let at = 0; at < stream.length; at += chunk) {
		const piece = stream.subarray(at, at + chunk);
		assert.equal(filter.feed(piece.buffer.slice(piece.byteOffset, piece.byteOffset + piece.length) as ArrayBuffer), true);
	}
	return { forwarded: Buffer.concat(forwarded), skipped };
}

test("oversize filter: a 300 KB PUBLISH is taken out whole, in any split; the rest passes unchanged and in order", () => {
	const small = publish("devices/n/cmd", 100);
	const huge = publish("devices/n/cmd", 300_000);
	const after = publish("fleet/lin/release", 2_000);	// at the limit with its topic: kept
	const expected = Buffer.concat([CONNACK, small, PINGRESP, after]);
	for (const chunk of [1, 2, 3, 7, 100, 1_400, 16_384, 1_000_000]) {
		const { forwarded, skipped } = run([CONNACK, small, huge, PINGRESP, after], chunk);
		assert.ok(forwarded.equals(expected), `chunks of ${chunk}: forwarded ${forwarded.length} bytes, expected ${expected.length}`);
		assert.deepEqual(skipped, [["devices/n/cmd", 300_000 + 2 + "devices/n/cmd".length]], `chunks of ${chunk}`);
	}
});

test("oversize filter: the limit is on topic and payload together; one byte over is skipped", () => {
	const topic = "fleet/lin/release";
	const at = publish(topic, 2_048 - 2 - topic.length);
	const over = publish(topic, 2_048 - 2 - topic.length + 1);
	const { forwarded, skipped } = run([at, over, at], 5);
	assert.ok(forwarded.equals(Buffer.concat([at, at])));
	assert.deepEqual(skipped, [[topic, 2_049]]);
});

test("oversize filter: a topic longer than topicMax is reported empty; other packet types are never skipped", () => {
	const { skipped } = run([publish("t".repeat(300), 5_000)], 64);
	assert.deepEqual(skipped, [["", 5_000 + 2 + 300]]);
	const suback = Uint8Array.from([0x90, ...remainingLength(3_000), ...new Array(3_000).fill(0)]);
	const { forwarded } = run([suback], 100);
	assert.equal(forwarded.length, suback.length, "not a PUBLISH: the SDK's parser handles it");
});

test("oversize filter: a remaining length of five bytes is malformed", () => {
	const filter = new OversizeFilter({ max: 10, topicMax: 10, forward: () => undefined, skipped: () => undefined });
	assert.equal(filter.feed(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01).buffer), false);
});
