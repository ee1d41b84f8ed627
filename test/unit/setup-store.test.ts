import { test } from "node:test";
import assert from "node:assert/strict";
import { SettingsStore, type BlobStorage } from "../../modules/app/setup/settings-store";
import { decodeBase64, encodeBase64 } from "../../modules/app/setup/base64";
import { CODE_LENGTH, makeCode, sameCode, setupCode } from "../../modules/app/setup/setup-code";
import { CodeLimiter, FREE_ATTEMPTS, LOCKOUT, MAX_LOCKOUT } from "../../modules/app/setup/code-limiter";

/** Blobs in a Map; `failAfter` writes succeed, then every write throws (a power cut). */
class Blobs implements BlobStorage {
	readonly map = new Map<string, string>();
	failAfter = Infinity;
	read(name: string) { return this.map.get(name); }
	write(name: string, text: string) {
		if (this.failAfter-- <= 0)
			throw new Error("power cut");
		assert.ok(Buffer.byteLength(text) <= 4_000, `${name} holds ${Buffer.byteLength(text)} bytes`);
		this.map.set(name, text);
	}
	remove(name: string) { this.map.delete(name); }
}

const BIG = encodeBase64(new Uint8Array(1_700).map((_, i) => i * 7));	// a large certificate's DER: two of them take two blobs

test("settings store: what is saved reads back, across several blobs, each under 4,000 bytes", () => {
	const blobs = new Blobs();
	const store = new SettingsStore(blobs);
	assert.deepEqual(store.load(), {});
	const settings = { ssid: "Café ☕ net", mqttHost: "broker.local", mqttPort: 8884, haDiscovery: true, clientCert: BIG, clientKey: BIG };
	store.save(settings);
	assert.deepEqual(new SettingsStore(blobs).load(), settings);
	assert.ok([...blobs.map.keys()].filter(name => name.startsWith("a")).length >= 2, "spans chunks");
});

test("settings store: a power cut at any write of a save leaves the previous settings whole", () => {
	const before = { mqttHost: "old.example", deviceId: "old", clientCert: BIG, clientKey: BIG };
	const after = { mqttHost: "new.example", deviceId: "new", clientCert: BIG.slice(4), clientKey: BIG };
	for (let writes = 0; writes < 3; writes++) {	// two chunks, then the pointer
		const blobs = new Blobs();
		const store = new SettingsStore(blobs);
		store.save(before);
		store.save(after);	// the second save goes to the other slot
		store.save(before);
		blobs.failAfter = writes;
		assert.throws(() => store.save(after), /power cut/);
		assert.deepEqual(new SettingsStore(blobs).load(), before, `cut after ${writes} writes`);
	}
});

test("settings store: a torn or damaged slot reads as no settings, with the reason", () => {
	const blobs = new Blobs();
	const store = new SettingsStore(blobs);
	store.save({ mqttHost: "h" });
	blobs.map.set("a0", blobs.map.get("a0")!.replace("h", "x"));
	assert.deepEqual(store.load(), {});
	assert.match(store.problem!, /checksum/);
	blobs.map.set("current", "garbage");
	assert.deepEqual(store.load(), {});
	assert.match(store.problem!, /pointer/);
});

test("settings store: clear() forgets everything (factory reset)", () => {
	const blobs = new Blobs();
	const store = new SettingsStore(blobs);
	store.save({ mqttHost: "h", clientCert: BIG, clientKey: BIG });
	store.clear();
	assert.deepEqual(store.load(), {});
	assert.equal(blobs.map.size, 0);
});

test("base64: round trip of every length; anything else is refused", () => {
	for (let length = 0; length < 10; length++) {
		const bytes = new Uint8Array(length).map((_, i) => 250 - i * 31);
		assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString("base64"));
		assert.deepEqual(decodeBase64(Buffer.from(bytes).toString("base64")), bytes);
	}
	assert.deepEqual(decodeBase64("SGVs\nbG8=\n"), new Uint8Array(Buffer.from("Hello")));
	for (const bad of ["SGVsbG8", "SGV*bG8=", "=SGV", "SGVsbG8=="])
		assert.equal(decodeBase64(bad), undefined, bad);
});

test("setup code: made once from random bytes, kept, and compared whole", () => {
	const blobs = new Blobs();
	let calls = 0;
	const random = (count: number) => { calls++; return new Uint8Array(count).map((_, i) => i * 37); };
	const code = setupCode(blobs, random);
	assert.match(code, new RegExp(`^[a-z2-9]{${CODE_LENGTH}}$`));
	assert.equal(setupCode(blobs, random), code);
	assert.equal(calls, 1);
	assert.notEqual(makeCode(new Uint8Array(10).fill(1)), makeCode(new Uint8Array(10).fill(2)));
	assert.ok(sameCode(code, code));
	assert.ok(!sameCode(code.slice(1), code));
	assert.ok(!sameCode(code + "x", code));
	assert.ok(!sameCode("", code));
	blobs.map.set("code", "x");	// damaged: a new one
	assert.notEqual(setupCode(blobs, random), "x");
});

test("code limiter: free attempts, then lockouts that double up to the cap; a right code resets", () => {
	const limiter = new CodeLimiter();
	for (let i = 0; i < FREE_ATTEMPTS - 1; i++)
		limiter.failed(0);
	assert.equal(limiter.wait(0), 0);
	limiter.failed(0);
	assert.equal(limiter.wait(0), LOCKOUT);
	assert.equal(limiter.wait(LOCKOUT), 0);
	limiter.failed(LOCKOUT);
	assert.equal(limiter.wait(LOCKOUT), 2 * LOCKOUT);
	for (let i = 0; i < 10; i++)
		limiter.failed(0);
	assert.equal(limiter.wait(0), MAX_LOCKOUT);
	limiter.succeeded();
	assert.equal(limiter.wait(0), 0);
});
