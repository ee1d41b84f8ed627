import { test } from "node:test";
import assert from "node:assert/strict";
import { SettingsStore, type BlobStorage } from "../../modules/app/setup/settings-store";
import { SetupHandler, type SetupRequest } from "../../modules/app/setup/setup-handler";
import { FREE_ATTEMPTS, LOCKOUT } from "../../modules/app/setup/code-limiter";
import { RequestReader, MAX_REQUEST } from "../../modules/app/setup/http-request";
import { nesting } from "../../modules/app/setup/settings-request";

const CODE = "abcdefghjk";
const CERT = Buffer.from("certificate-der-bytes").toString("base64");
const KEY = Buffer.from("key-der-bytes").toString("base64");
const PEM_KEY = `-----BEGIN PRIVATE KEY-----\n${KEY}\n-----END PRIVATE KEY-----\n`;

class Blobs implements BlobStorage {
	readonly map = new Map<string, string>();
	read(name: string) { return this.map.get(name); }
	write(name: string, text: string) { this.map.set(name, text); }
	remove(name: string) { this.map.delete(name); }
}

function setup(image: Record<string, unknown> = {}) {
	let now = 0;
	const lines: string[] = [];
	const store = new SettingsStore(new Blobs());
	const handler = new SetupHandler({
		code: CODE, store, image: { topicPrefix: "devices", ...image },
		context: { defaultDeviceId: "sim-device", wifiRequired: false },
		// The fake runtime check: the key "belongs" to the certificate when both are the test's.
		identity: { check: (certificate, key) => Buffer.from(key).toString() === "key-der-bytes" && Buffer.from(certificate).toString() === "certificate-der-bytes" ? [] : ["clientKey: is not the key of clientCert"] },
		clock: { wallTime: () => null, ticks: () => now },
		log: line => lines.push(line),
	});
	const post = (body: unknown, code: string | null = CODE) => {
		const request: SetupRequest = { method: "POST", path: "/settings", authorization: code === null ? undefined : `Bearer ${code}`, body: typeof body === "string" ? body : JSON.stringify(body) };
		const answer = handler.handle(request);
		return { ...answer, json: answer.contentType === "application/json" ? JSON.parse(answer.body) : undefined };
	};
	return { handler, store, lines, post, advance: (ms: number) => { now += ms; } };
}

test("setup: 200 stores the settings and asks for the restart; they override the image", () => {
	const { post, store, lines } = setup({ mqttHost: "fleet.example" });
	const answer = post({ mqttHost: "localhost", mqttPort: "8884", deviceId: "node-7", mqttUser: "u", mqttPassword: "very-secret", haDiscovery: "true", clientCert: CERT, clientKey: PEM_KEY });
	assert.equal(answer.status, 200, answer.body);
	assert.deepEqual(answer.json, { ok: true });
	assert.equal(answer.restart, true);
	assert.deepEqual(store.load(), { mqttHost: "localhost", mqttPort: 8884, deviceId: "node-7", mqttUser: "u", mqttPassword: "very-secret", haDiscovery: true, clientCert: CERT, clientKey: KEY });
	assert.ok(!lines.join("\n").includes("very-secret"));
	// null removes a stored value; an absent key keeps it.
	assert.equal(post({ mqttUser: null, mqttPassword: null }).status, 200);
	assert.equal(store.load().mqttUser, undefined);
	assert.equal(store.load().deviceId, "node-7");
});

test("setup: 400 names every problem together, by key, and stores nothing", () => {
	const { post, store } = setup();
	store.save({ mqttHost: "kept.example" });
	const answer = post({ mqttPort: 70000, deviceId: "a b", colour: "red", password: 12345, mqttPassword: "secret-pw", clientKey: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----" });
	assert.equal(answer.status, 400);
	assert.equal(answer.json.ok, false);
	assert.deepEqual(Object.keys(answer.json.errors).sort(), ["clientKey", "colour", "deviceId", "mqttPassword", "mqttPort", "password"]);
	assert.match(answer.json.errors.mqttPort, /outside 1\.\.65535/);
	assert.match(answer.json.errors.colour, /not a setting/);
	assert.match(answer.json.errors.clientKey, /PKCS#1/);
	assert.match(answer.json.errors.mqttPassword, /without mqttUser/);
	assert.equal(answer.json.errors.password, "expected a string");
	assert.ok(!answer.body.includes("secret-pw") && !answer.body.includes("12345"));
	assert.deepEqual(store.load(), { mqttHost: "kept.example" });
	assert.match(post({ mqttPort: 0, mqttHost: "h" }).json.errors.mqttPort, /outside/);
});

test("setup: 400 for a body that is not one flat JSON object, a host missing, a key not the certificate's", () => {
	const { post } = setup();
	assert.deepEqual(post("not json").json.errors, { body: "is not JSON" });
	assert.deepEqual(post("[1]").json.errors, { body: "must be a JSON object of settings" });
	assert.match(post("[".repeat(10_000)).json.errors.body, /nothing nested/);
	assert.match(post({ ssid: { a: 1 } }).json.errors.body, /nothing nested/);
	assert.match(post({}).json.errors.mqttHost, /required/);
	assert.match(post({ mqttHost: "h", clientCert: CERT }).json.errors.clientKey, /give both/);
	assert.match(post({ mqttHost: "h", clientCert: CERT, clientKey: Buffer.from("other").toString("base64") }).json.errors.clientKey, /not the key/);
	assert.match(post({ mqttHost: "h", clientCert: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----" }).json.errors.clientCert, /not a CERTIFICATE/);
	assert.match(post({ mqttHost: "h", clientKey: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----", clientCert: CERT }).json.errors.clientKey, /encrypted/);
	assert.equal(nesting('{"a":"[{[{"}'), 1);
});

test("setup: 401 for a missing or wrong code, then 429 for every code while locked out", () => {
	const { post, advance, store } = setup();
	assert.equal(post({ mqttHost: "h" }, null).status, 401);
	for (let i = 1; i < FREE_ATTEMPTS; i++)
		assert.equal(post({ mqttHost: "h" }, "wrong").status, 401);
	const locked = post({ mqttHost: "h" });	// the right code, but locked out
	assert.equal(locked.status, 429);
	assert.equal(locked.retryAfter, LOCKOUT / 1000);
	assert.deepEqual(store.load(), {});
	advance(LOCKOUT);
	assert.equal(post({ mqttHost: "h" }).status, 200);
});

test("setup: GET / is a small page with a field for every setting that never shows a stored secret", () => {
	const { handler, post } = setup();
	assert.equal(post({ mqttHost: "broker.example", mqttUser: "owner", mqttPassword: "hunter2-pw", password: "wifi-pass-1", clientCert: CERT, clientKey: KEY }).status, 200);
	const page = handler.handle({ method: "GET", path: "/", authorization: undefined, body: "" });
	assert.equal(page.status, 200);
	assert.match(page.contentType, /text\/html/);
	assert.ok(page.body.length < 16_384, `${page.body.length} bytes`);
	for (const key of ["ssid", "password", "mqttHost", "mqttPort", "deviceId", "mqttUser", "mqttPassword", "topicPrefix", "haDiscovery", "clientCert", "clientKey"])
		assert.match(page.body, new RegExp(`name="${key}"`), key);
	assert.match(page.body, /broker\.example/);
	for (const secret of ["hunter2-pw", "wifi-pass-1", KEY])
		assert.ok(!page.body.includes(secret), secret);
	assert.ok(!/(src|href)=/.test(page.body), "no external assets");
	assert.equal(handler.handle({ method: "GET", path: "/nothing", authorization: undefined, body: "" }).status, 404);
	assert.equal(handler.handle({ method: "GET", path: "/settings", authorization: undefined, body: "" }).status, 405);
});

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

test("request reader: a request in pieces; 413 above 16 KB, told by Content-Length or by a head that never ends", () => {
	const reader = new RequestReader();
	const request = "POST /settings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer c\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
	for (const char of request.slice(0, -1))
		assert.equal(reader.feed(bytes(char)).kind, "more");
	const last = reader.feed(bytes("}"));
	assert.equal(last.kind, "request");
	if (last.kind === "request") {
		assert.equal(last.request.headers.authorization, "Bearer c");
		assert.equal(Buffer.from(last.request.body).toString(), "{\"a\":1}");
	}
	const big = new RequestReader().feed(bytes(`POST /settings HTTP/1.1\r\nContent-Length: ${MAX_REQUEST}\r\n\r\n`));
	assert.deepEqual(big.kind === "refused" && big.status, 413);
	const endless = new RequestReader();
	let result;
	for (let i = 0; i < 40 && result?.kind !== "refused"; i++)
		result = endless.feed(bytes("X".repeat(1_000)));
	assert.equal(result?.kind === "refused" && result.status, 413);
});

test("request reader: 400 for a malformed head or a chunked body; 100-continue when asked", () => {
	for (const head of ["GARBAGE\r\n\r\n", "POST /settings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "POST /x HTTP/1.1\r\nno colon\r\n\r\n"]) {
		const result = new RequestReader().feed(bytes(head));
		assert.equal(result.kind === "refused" && result.status, 400, head);
	}
	const reader = new RequestReader();
	assert.equal(reader.feed(bytes("POST /settings HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")).kind, "continue");
	assert.equal(reader.feed(bytes("{}")).kind, "request");
});
