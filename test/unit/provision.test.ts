import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArguments } from "../../tools/provision";
import { setupFlag, SETUP_LINE } from "../../tools/start-setup";

test("provision: flags become the contract's keys, typed; --clear sends null", () => {
	const parsed = parseArguments(["http://127.0.0.1:8080/", "--code", "abcdefghjk", "--mqtt-host", "broker", "--mqtt-port", "8884", "--ha-discovery", "true", "--device-id", "node-7", "--clear", "mqttUser"]);
	assert.deepEqual(parsed, { url: "http://127.0.0.1:8080/", code: "abcdefghjk", settings: { mqttHost: "broker", mqttPort: 8884, haDiscovery: true, deviceId: "node-7", mqttUser: null } });
});

test("provision: a missing code, an unknown flag, --mtls with --cert, half a pair are usage problems", () => {
	for (const args of [["http://x/"], ["http://x/", "--code", "c", "--colour", "red"], ["http://x/", "--code", "c", "--mtls", "a", "--cert", "f", "--key", "k"], ["http://x/", "--code", "c", "--cert", "f"], ["--code", "c"], ["http://x/", "--code"]])
		assert.equal(typeof parseArguments(args), "string", args.join(" "));
});

test("npm start: --setup is taken out of the mode flags; the setup line is recognised after a prefix", () => {
	assert.deepEqual(setupFlag(["--mtls", "--setup"]), { argv: ["--mtls"], leaveOpen: true });
	assert.deepEqual(setupFlag([]), { argv: [], leaveOpen: false });
	const match = SETUP_LINE.exec("[dev-sim] setup: open on port 18080, code k3jdk3y3ks");
	assert.deepEqual(match && [match[1], match[2]], ["18080", "k3jdk3y3ks"]);
});
