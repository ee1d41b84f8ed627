/*
 * Setup mode in the Linux simulator: one image with no broker and no id of its own.
 * - It opens setup mode (the console line with port and code), publishes nothing; bad
 *   requests (wrong code, bad settings, 1 MB, a client that never finishes) are
 *   answered or closed and the server keeps answering; a POST /settings with a device
 *   certificate from the dev PKI is answered 200, the simulator restarts into normal
 *   mode and comes online at an mTLS broker as the provisioned id.
 * - Re-entry: a `setup-reset` file in the simulator's state folder is a factory reset:
 *   setup mode again, with a new code. Then headless Chromium fills the page's form
 *   (password identity) and the device comes online at a password broker.
 * Skipped, and reported as skipped, without a Moddable SDK (or, for the browser case,
 * without /usr/bin/chromium).
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import { OPERATOR } from "../../tools/broker/kit";
import { issueDeviceCert } from "../../tools/pki";
import { freePort } from "../../tools/net";
import { simulatorStateDir, type Simulator } from "../../tools/sdk";
import { waitFor } from "../../tools/harness/wait";
import type { Watcher } from "../../tools/harness/watcher";
import { mtlsIdentity, provision } from "../../tools/provision";
import { DeviceFixture, sdkSkip } from "./support";

const CHROMIUM = "/usr/bin/chromium";
const browserSkip = sdkSkip || (existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`);
const online = (payload: unknown) => (payload as { online?: boolean }).online === true;
const SETUP_LINE = /^setup: open on port (\d+), code ([a-z0-9]+)$/;

async function setupLine(simulator: Simulator): Promise<{ port: number; code: string }> {
	const line = await waitFor("the setup line", () => simulator.lines.find(text => SETUP_LINE.test(text)), 60_000);
	const [, port, code] = SETUP_LINE.exec(line)!;
	return { port: Number(port), code };
}

describe("simulator: setup mode", () => {
	let fixture: DeviceFixture;
	let mtls: Broker;
	let passwords: Broker;
	let onMtls: Watcher;
	let onPasswords: Watcher;
	let library: string;
	let setupPort: number;

	before(async () => {
		if (sdkSkip)
			return;
		fixture = new DeviceFixture();
		issueDeviceCert(fixture.pkiDir, OPERATOR);
		mtls = await fixture.broker({ auth: { mode: "mtls" } });
		passwords = await fixture.broker({ auth: { mode: "password", passwords: { "sim-browser": "browser-secret", [OPERATOR]: "operator-secret" } } });
		onMtls = await fixture.watcher({ port: mtls.port, topics: ["#"], clientCert: { cert: `device-${OPERATOR}.pem`, key: `device-${OPERATOR}.key` } });
		onPasswords = await fixture.watcher({ port: passwords.port, topics: ["#"], username: OPERATOR, password: "operator-secret" });
		setupPort = await freePort();
		// The fleet image: no broker host, no id (the build's folder is named after "sim-setup").
		library = await fixture.build(0, "sim-setup", { mqttHost: "", mqttPort: 8883, deviceId: "", setupPort, setupTimeout: 120_000 });
	});
	after(() => fixture?.cleanup());

	it("opens setup mode, survives bad requests, and a POST /settings brings it online with the provisioned mTLS identity", { skip: sdkSkip }, async () => {
		const simulator = fixture.simulate(library);
		const { port, code } = await setupLine(simulator);
		assert.equal(port, setupPort);
		const url = `http://127.0.0.1:${port}/`;
		assert.equal((await provision(url, "wrong-code", { mqttHost: "localhost" })).status, 401);
		const bad = await provision(url, code, { mqttHost: "localhost", mqttPort: 0, colour: "red" });
		assert.equal(bad.status, 400, bad.body);
		assert.deepEqual(Object.keys(JSON.parse(bad.body).errors).sort(), ["colour", "mqttPort"]);
		const huge = await provision(url, code, { ssid: "x".repeat(1_000_000) }).catch(error => ({ status: 0, body: String(error) }));
		assert.ok(huge.status === 413 || huge.status === 0, `answered ${huge.status}`);	// answered 413, or closed mid-upload
		const stalled = connect(port, "127.0.0.1");
		stalled.on("error", () => undefined);
		stalled.write("POST /settings HTTP/1.1\r\nContent-Length: 100\r\n\r\n{");
		const page = await fetch(url);
		assert.equal(page.status, 200);
		assert.ok((await page.text()).length < 16_384);
		stalled.destroy();

		const answer = await provision(url, code, { mqttHost: "localhost", mqttPort: mtls.port, deviceId: "sim-prov", ...mtlsIdentity("sim-prov", fixture.pkiDir) });
		assert.deepEqual([answer.status, answer.body], [200, "{\"ok\":true}"]);
		const birth = await onMtls.waitFor("devices/sim-prov/status", online, 60_000);
		assert.equal(JSON.parse(birth.payload).reason, "setup");
		assert.ok(simulator.lines.includes("setup: settings stored, restarting into normal mode"), simulator.lines.join("\n"));
		assert.deepEqual(onMtls.received.filter(message => !message.topic.startsWith("devices/sim-prov/")).map(message => message.topic), []);
		assert.ok(!simulator.lines.join("\n").includes(mtlsIdentity("sim-prov", fixture.pkiDir).clientKey.slice(0, 40)), "no key on the console");
		await simulator.stop();
	});

	it("a factory reset file reopens setup mode; the page in headless Chromium sets a password identity", { skip: browserSkip }, async () => {
		writeFileSync(join(simulatorStateDir(library), "setup-reset"), "");
		const simulator = fixture.simulate(library);
		const { port, code } = await setupLine(simulator);
		assert.ok(simulator.lines.some(line => line.includes("factory reset")), simulator.lines.join("\n"));
		const { chromium } = await import("playwright-core");
		const profile = mkdtempSync(join(tmpdir(), "smn-chromium-"));
		// A fresh profile (--user-data-dir, which playwright passes for a persistent context).
		const browser = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM, headless: true, viewport: { width: 390, height: 844 },	// a phone's
			args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
		});
		try {
			const page = await browser.newPage();
			await page.goto(`http://127.0.0.1:${port}/`);
			await page.fill("#code", code);
			await page.fill("#mqttHost", "localhost");
			await page.fill("#mqttPort", String(passwords.port));
			await page.fill("#deviceId", "sim-browser");
			await page.fill("#mqttUser", "sim-browser");
			await page.fill("#mqttPassword", "browser-secret");
			await page.click("button[type=submit]");
			await page.waitForFunction("document.getElementById('result').textContent.startsWith('Stored')", undefined, { timeout: 30_000 });
		}
		finally {
			await browser.close();
			rmSync(profile, { recursive: true, force: true });
		}
		await onPasswords.waitFor("devices/sim-browser/status", online, 60_000);
		assert.ok(!simulator.lines.join("\n").includes("browser-secret"), "no password on the console");
		await simulator.stop();
	});
});
