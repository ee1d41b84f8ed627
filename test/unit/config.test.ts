import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, rootNames, type RawConfig } from "../../modules/app/config/config";
import { MAX_TOPIC } from "../../modules/app/limits";
import { QUEUE_BUDGET, QUEUE_ENTRY_BYTES, QUEUE_MAX } from "../../modules/app/config/config";
import { UPDATE_HEADROOM } from "../../modules/app/updates/ota";
import { longestTopic } from "../../modules/app/connection/topics";

const SIMULATOR = { defaultDeviceId: "esp32-a1b2c3", wifiRequired: false };
const BOARD = { defaultDeviceId: "esp32-a1b2c3", wifiRequired: true };

function load(raw: RawConfig, context = SIMULATOR) {
	return loadConfig({ mqttHost: "broker.example.com", ...raw }, context);
}

/** The single error a config produced; fails if there are none or several. */
function onlyError(raw: RawConfig, context = SIMULATOR): string {
	const { errors } = load(raw, context);
	assert.equal(errors.length, 1, `expected one error, got ${JSON.stringify(errors)}`);
	return errors[0];
}

test("config: a minimal config is valid and filled with defaults", () => {
	const { config, errors } = load({});
	assert.deepEqual(errors, []);
	assert.deepEqual(config, {
		ssid: "", password: "", mqttHost: "broker.example.com", mqttPort: 8883, mqttUser: "", mqttPassword: "",
		deviceId: "esp32-a1b2c3", topicPrefix: "devices", caCert: "ca.der", clientCert: "", clientKey: "",
		interval: 10_000, keepalive: 60, connectTimeout: 30_000, outputs: {}, inputs: {}, sensor: "simulated", adcPin: 34,
		sntp: "pool.ntp.org", backoffMin: 1_000, backoffMax: 60_000, queueSize: 100,
		haDiscovery: false, haPrefix: "homeassistant",
		otaKey: "ota-key.der", otaConfirmTimeout: 300_000, otaConfirmAfter: 60_000, setupPort: 80, setupTimeout: 600_000, setupButton: "",
		model: "", fleetPrefix: "fleet", releaseWindow: 600_000,
	});
});

test("config: an explicit deviceId replaces the default one", () => {
	assert.equal(load({ deviceId: "kitchen-1" }).config.deviceId, "kitchen-1");
});

test("config: numeric strings (as mcconfig passes them) are parsed to numbers", () => {
	const { config, errors } = load({ mqttPort: "1883", interval: "5000", keepalive: "30", connectTimeout: "10000", backoffMin: "500", backoffMax: "20000", queueSize: "50" });
	assert.deepEqual(errors, []);
	assert.deepEqual(
		[config.mqttPort, config.interval, config.keepalive, config.connectTimeout, config.backoffMin, config.backoffMax, config.queueSize],
		[1883, 5000, 30, 10000, 500, 20000, 50]);
});

test("config: numbers given as numbers are kept", () => {
	const { config, errors } = load({ mqttPort: 1883, queueSize: 7 });
	assert.deepEqual(errors, []);
	assert.equal(config.mqttPort, 1883);
	assert.equal(config.queueSize, 7);
});

test("config: an empty numeric string means the default", () => {
	const { config, errors } = load({ mqttPort: "", interval: "" });
	assert.deepEqual(errors, []);
	assert.equal(config.mqttPort, 8883);
	assert.equal(config.interval, 10_000);
});

test("config: a bad number falls back to the default and is reported", () => {
	const { config, errors } = load({ mqttPort: "eighty" });
	assert.equal(config.mqttPort, 8883);
	assert.equal(errors.length, 1);
});

// Each invalid value: the single error must name the key and show the offending value.
const INVALID: [string, RawConfig, string][] = [
	["mqttPort not a number", { mqttPort: "eighty" }, "\"eighty\""],
	["mqttPort a fraction", { mqttPort: "88.5" }, "\"88.5\""],
	["mqttPort hexadecimal", { mqttPort: "0x22b3" }, "\"0x22b3\""],
	["mqttPort out of range", { mqttPort: "70000" }, "70000"],
	["mqttPort zero", { mqttPort: 0 }, "0"],
	["adcPin not a number", { adcPin: "pin34" }, "\"pin34\""],
	["adcPin not a GPIO", { adcPin: "60" }, "60"],
	["interval too short", { interval: "999" }, "999"],
	["interval too long", { interval: 3_600_001 }, "3600001"],
	["interval a fraction (number)", { interval: 1500.5 }, "1500.5"],
	["keepalive too short", { keepalive: "4" }, "4"],
	["connectTimeout too long", { connectTimeout: "120001" }, "120001"],
	["backoffMin too small", { backoffMin: "99" }, "99"],
	["queueSize zero", { queueSize: "0" }, "0"],
	["queueSize too big", { queueSize: "1001" }, "1001"],
	["queueSize over the heap budget", { queueSize: "151" }, "151"],
	["queueSize negative", { queueSize: "-5" }, "-5"],
	["mqttHost with a scheme", { mqttHost: "mqtts://broker" }, "\"mqtts://broker\""],
	["clientCert not a string", { clientCert: { file: "a.der" } }, "an object"],
	["deviceId with a space", { deviceId: "my device" }, "\"my device\""],
	["deviceId with a slash", { deviceId: "a/b" }, "\"a/b\""],
	["deviceId too long", { deviceId: "x".repeat(65) }, "x".repeat(40)],
	["topicPrefix with a wildcard", { topicPrefix: "home/+" }, "\"home/+\""],
	["topicPrefix with #", { topicPrefix: "home/#" }, "\"home/#\""],
	["topicPrefix with a leading slash", { topicPrefix: "/home" }, "\"/home\""],
	["topicPrefix with a trailing slash", { topicPrefix: "home/" }, "\"home/\""],
	["topicPrefix empty", { topicPrefix: "" }, "\"\""],
	["topicPrefix with a control character", { topicPrefix: "home\u0001x" }, "U+0001"],
	["topicPrefix with a newline", { topicPrefix: "home\nx" }, "U+000A"],
	["topicPrefix with DEL", { topicPrefix: "home\u007f" }, "U+007F"],
	["topicPrefix with a C1 control", { topicPrefix: "home\u0085" }, "U+0085"],
	["topicPrefix with a lone surrogate", { topicPrefix: "home\ud800" }, "surrogate"],
	["topicPrefix starting with $", { topicPrefix: "$SYS/x" }, "\"$SYS/x\""],
	["topicPrefix a shared subscription", { topicPrefix: "$share/g" }, "$"],
	["topicPrefix too long for one TLS write", { topicPrefix: "p".repeat(200) }, `${MAX_TOPIC}`],
	["topicPrefix over 65,535 bytes", { topicPrefix: "p".repeat(70_000) }, "p".repeat(40)],
	["deviceId starting with $", { deviceId: "$SYS" }, "\"$SYS\""],
	["deviceId with a control character", { deviceId: "a\u0000b" }, "U+0000"],
	["caCert not DER", { caCert: "ca.pem" }, "\"ca.pem\""],
	["caCert with an empty entry", { caCert: "ca.der,,new-ca.der" }, "\"\""],
	["caCert with a path", { caCert: "certs/ca.der" }, "\"certs/ca.der\""],
	["caCert naming a root twice", { caCert: "ca.der, ca.der" }, "\"ca.der,ca.der\""],
	["clientCert not DER", { clientCert: "device.pem", clientKey: "device.key.der" }, "\"device.pem\""],
	["clientKey not DER", { clientKey: "device.key", clientCert: "device.crt.der" }, "\"device.key\""],
	["sensor unknown", { sensor: "thermo" }, "\"thermo\""],
	["outputs pin out of range", { outputs: "led:49" }, "\"49\""],
	["outputs pin not a number", { outputs: "led:x" }, "\"x\""],
	["outputs pin missing", { outputs: "led" }, "nothing"],
	["outputs pin negative", { outputs: { led: -1 } }, "-1"],
	["outputs pin name upper case", { outputs: "LED:2" }, "\"LED\""],
	["outputs pin name starting with a digit", { outputs: "2led:2" }, "\"2led\""],
	["outputs pin name too long", { outputs: `${"a".repeat(17)}:2` }, "a".repeat(17)],
	["outputs an array", { outputs: [1, 2] }, "an array"],
	["outputs a number", { outputs: 5 }, "5"],
	["inputs pin out of range", { inputs: "button:50" }, "\"50\""],
	["outputs more than 16 pins", { outputs: Array.from({ length: 17 }, (_, i) => `o${i}:${i}`).join(",") }, "17"],
];

test("config: the longest prefix that fits is accepted, one byte more is not (UTF-8 bytes counted)", () => {
	const id = "x".repeat(64);
	const fits = "p".repeat(MAX_TOPIC - longestTopic("", id));
	assert.deepEqual(load({ deviceId: id, topicPrefix: fits }).errors, []);
	assert.ok(onlyError({ deviceId: id, topicPrefix: fits.slice(1) + "é" }).startsWith("topicPrefix:"));
});

test("config: a prefix with non-ASCII letters and an emoji is accepted", () => {
	assert.deepEqual(load({ topicPrefix: "häuser/🏠" }).errors, []);
});

for (const [name, raw, shown] of INVALID) {
	const key = Object.keys(raw)[0];
	test(`config: ${name} is reported naming ${key} and ${shown}`, () => {
		const error = onlyError(raw);
		assert.ok(error.startsWith(`${key}:`), `"${error}" does not start with "${key}:"`);
		assert.ok(error.includes(shown), `"${error}" does not show ${shown}`);
	});
}

test("config: several problems are reported together", () => {
	const { errors } = loadConfig({ mqttPort: "x", deviceId: "bad id", sensor: "thermo", caCert: "ca.pem", queueSize: "0" }, BOARD);
	const keys = errors.map(error => error.slice(0, error.indexOf(":"))).sort();
	assert.deepEqual(keys, ["caCert", "deviceId", "mqttHost", "mqttPort", "queueSize", "sensor", "ssid"]);
});

test("config: mqttHost is required", () => {
	assert.match(onlyError({ mqttHost: undefined }), /^mqttHost: required/);
});

test("config: a wrong-typed mqttHost is reported as such (and, since it is then empty, as missing)", () => {
	const { errors } = load({ mqttHost: ["a"] });
	assert.equal(errors[0], "mqttHost: expected a string, got an array");
	assert.ok(errors.every(error => error.startsWith("mqttHost:")), JSON.stringify(errors));
});

test("config: an IPv4 address is a valid mqttHost", () => {
	assert.deepEqual(load({ mqttHost: "192.168.1.10" }).errors, []);
});

test("config: a wrong-typed string key is reported with its value", () => {
	const { errors } = load({ sntp: true });
	assert.deepEqual(errors, ["sntp: expected a string, got true"]);
});

test("config: outputs parsed from \"led:2,relay:4\"", () => {
	const { config, errors } = load({ outputs: "led:2,relay:4" });
	assert.deepEqual(errors, []);
	assert.deepEqual(config.outputs, { led: 2, relay: 4 });
});

test("config: outputs tolerate spaces around names and pins", () => {
	const { config, errors } = load({ outputs: " led : 2 , relay:4 " });
	assert.deepEqual(errors, []);
	assert.deepEqual(config.outputs, { led: 2, relay: 4 });
});

test("config: outputs parsed from an object with number or string pins", () => {
	const { config, errors } = load({ outputs: { led: 2, relay: "4" } });
	assert.deepEqual(errors, []);
	assert.deepEqual(config.outputs, { led: 2, relay: 4 });
});

test("config: inputs parsed like outputs", () => {
	const { config, errors } = load({ inputs: "button:0,door_1:35" });
	assert.deepEqual(errors, []);
	assert.deepEqual(config.inputs, { button: 0, door_1: 35 });
});

test("config: a pin name given twice is reported and the first kept", () => {
	const { config, errors } = load({ outputs: "led:2,led:3" });
	assert.deepEqual(errors, ["outputs: \"led\" is given twice"]);
	assert.deepEqual(config.outputs, { led: 2 });
});

test("config: a bad entry is reported and the good ones kept", () => {
	const { config, errors } = load({ outputs: "led:2,LED:3,relay:4" });
	assert.equal(errors.length, 1);
	assert.deepEqual(config.outputs, { led: 2, relay: 4 });
});

test("config: a name used as both input and output is reported", () => {
	assert.equal(onlyError({ outputs: "led:2", inputs: "led:4" }), "inputs: \"led\" is also an output");
});

test("config: different input and output names are fine", () => {
	assert.deepEqual(load({ outputs: "led:2", inputs: "button:4" }).errors, []);
});

test("config: a valid lower-case pin name that is an Object.prototype property is accepted", () => {
	const { config, errors } = load({ outputs: "constructor:2" });
	assert.deepEqual(errors, []);
	assert.equal(config.outputs.constructor, 2);
});

test("config: ssid is required where WiFi is (wifiRequired)", () => {
	assert.match(onlyError({}, BOARD), /^ssid: required/);
});

test("config: ssid given satisfies wifiRequired", () => {
	assert.deepEqual(load({ ssid: "home" }, BOARD).errors, []);
});

test("config: ssid is optional where WiFi is not required", () => {
	assert.deepEqual(load({}, SIMULATOR).errors, []);
});

test("config: clientCert without clientKey is reported naming both", () => {
	const error = onlyError({ clientCert: "device.der" });
	assert.ok(error.startsWith("clientCert/clientKey:"), error);
	assert.ok(error.includes("\"device.der\""), error);
});

test("config: clientKey without clientCert is reported", () => {
	assert.ok(onlyError({ clientKey: "device-key.der" }).startsWith("clientCert/clientKey:"));
});

test("config: clientCert with clientKey is fine", () => {
	const { config, errors } = load({ clientCert: "device.der", clientKey: "device-key.der" });
	assert.deepEqual(errors, []);
	assert.equal(config.clientCert, "device.der");
	assert.equal(config.clientKey, "device-key.der");
});

test("config: caCert lists several bundled roots, separated by commas (CA rotation)", () => {
	const { config, errors } = load({ caCert: "ca.der, new-ca.der" });
	assert.deepEqual(errors, []);
	assert.deepEqual(rootNames(config.caCert), ["ca.der", "new-ca.der"]);
});

test("config: otaConfirmAfter must be below otaConfirmTimeout (else an update could never confirm)", () => {
	assert.equal(onlyError({ otaConfirmAfter: "300000" }), "otaConfirmAfter: 300000 ms is not below otaConfirmTimeout 300000 ms (an update could never confirm)");
	assert.equal(onlyError({ otaConfirmAfter: "999" }).startsWith("otaConfirmAfter:"), true);
});

test("config: backoffMax below backoffMin is reported with both values", () => {
	assert.equal(onlyError({ backoffMin: "5000", backoffMax: "2000" }), "backoffMax: 2000 ms is below backoffMin 5000 ms");
});

test("config: backoffMax equal to backoffMin is fine", () => {
	assert.deepEqual(load({ backoffMin: "5000", backoffMax: "5000" }).errors, []);
});

test("config: mqttPassword without mqttUser is reported", () => {
	assert.equal(onlyError({ mqttPassword: "s3cr3t-pw" }), "mqttPassword: given without mqttUser");
});

test("config: mqttPassword with mqttUser is fine and kept", () => {
	const { config, errors } = load({ mqttUser: "node", mqttPassword: "s3cr3t-pw" });
	assert.deepEqual(errors, []);
	assert.equal(config.mqttPassword, "s3cr3t-pw");
});

test("config: secrets never appear in any message", () => {
	const secrets = ["wifi-S3CRET-pass", "mqtt-S3CRET-pass"];
	const raws: RawConfig[] = [
		{ password: secrets[0], mqttPassword: secrets[1] },	// password without user
		{ password: secrets[0], mqttPassword: secrets[1], mqttHost: "", deviceId: "bad id", mqttPort: "x" },
		{ password: secrets[0], mqttUser: "u", mqttPassword: secrets[1], outputs: "led:99" },
		{ password: { value: secrets[0] }, mqttPassword: [secrets[1]] },	// wrong types
	];
	for (const raw of raws) {
		const { errors } = loadConfig(raw, BOARD);
		assert.ok(errors.length > 0, "each config here has a problem");
		for (const error of errors)
			for (const secret of secrets)
				assert.ok(!error.includes(secret) && !error.includes("S3CRET"), `"${error}" leaks a secret`);
	}
});

test("config: haDiscovery takes booleans and the strings mcconfig passes", () => {
	for (const [raw, expected] of [[true, true], ["true", true], ["1", true], [1, true], [false, false], ["false", false], ["0", false], ["", false]] as const)
		assert.equal(load({ haDiscovery: raw }).config.haDiscovery, expected, `haDiscovery ${JSON.stringify(raw)}`);
});

test("config: a haDiscovery that is not a boolean is reported and stays off", () => {
	const { config, errors } = load({ haDiscovery: "yes" });
	assert.equal(config.haDiscovery, false);
	assert.deepEqual(errors, ["haDiscovery: expected true or false, got \"yes\""]);
});

test("config: haPrefix accepts a nested prefix", () => {
	const { config, errors } = load({ haPrefix: "site-3/homeassistant" });
	assert.deepEqual(errors, []);
	assert.equal(config.haPrefix, "site-3/homeassistant");
});

test("config: haPrefix is refused with wildcards, a leading $, control characters, bad slashes or too long", () => {
	const cases: [string, RegExp][] = [
		["", /is empty/],
		["h".repeat(65), /1\.\.64 characters/],
		["home/+", /wildcard \+/],
		["home#", /wildcard #/],
		["$SYS", /starts with \$/],
		["home\u0000assistant", /control character U\+0000/],
		["home\nassistant", /control character U\+000A/],
		["/homeassistant", /leading, trailing or doubled \//],
		["homeassistant/", /leading, trailing or doubled \//],
		["home//assistant", /leading, trailing or doubled \//],
	];
	for (const [prefix, problem] of cases) {
		const error = onlyError({ haPrefix: prefix });
		assert.ok(error.startsWith("haPrefix: "), error);
		assert.match(error, problem, `haPrefix ${JSON.stringify(prefix)}`);
	}
});

test("config: queueSize is bounded by what a queued reading costs on ESP32 within an update's heap", () => {
	assert.equal(QUEUE_ENTRY_BYTES, 136 + 3 * 16, "bench/README.md: 136 B of chunks and 3 slots per queued reading");
	assert.ok(QUEUE_MAX * QUEUE_ENTRY_BYTES <= QUEUE_BUDGET && (QUEUE_MAX + 1) * QUEUE_ENTRY_BYTES > QUEUE_BUDGET);
	assert.ok(QUEUE_BUDGET <= UPDATE_HEADROOM, "the offline queue takes no more heap than an update");
	assert.deepEqual(load({ queueSize: String(QUEUE_MAX) }).errors, []);
	assert.match(load({ queueSize: String(QUEUE_MAX + 1) }).errors.join("\n"), /queueSize: 151 readings is outside 1..150/);
});
