/*
 * The broker kit's second line against oversized messages (issue 18, risk 9): the
 * generated mosquitto.conf caps a message's payload above what devices send (MAX_MESSAGE)
 * and far below a board's heap.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MESSAGE_SIZE_LIMIT, kitConfig } from "../../tools/broker/kit";
import { MAX_MESSAGE } from "../../modules/app/limits";

test("broker kit: message_size_limit is set, above MAX_MESSAGE and at most 8 KB", () => {
	const files = { cafile: "ca.pem", certfile: "server.pem", keyfile: "server.key", aclFile: "acl", passwordFile: "passwd" };
	for (const mode of ["mtls", "password"] as const) {
		const config = kitConfig({ mode, prefix: "devices", files, ecdheFirst: true }, { runAs: "mosquitto", dataDir: "data" });
		assert.match(config, new RegExp(`^message_size_limit ${MESSAGE_SIZE_LIMIT}$`, "m"));
	}
	assert.ok(MESSAGE_SIZE_LIMIT >= MAX_MESSAGE && MESSAGE_SIZE_LIMIT <= 8_192);
});
