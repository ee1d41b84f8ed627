/*
 * The broker kit as a user runs it (issue 21, defect 1; issue 18, defect 6): `npm run
 * pki -- broker-kit <dir> --mode mtls` is written, and its printed `run:` line is run
 * as printed by whoever runs the tests (root in CI, where mosquitto drops to the
 * `mosquitto` account). The broker must serve TLS, keep its state in the kit's own
 * folder, let a device's Home Assistant discovery through (publish
 * <haPrefix>/<component>/<id>/<key>/config, read and clear the old
 * <haPrefix>/device/<id>/config, read <haPrefix>/status), and drop publishes over
 * message_size_limit.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MESSAGE_SIZE_LIMIT, OPERATOR } from "../../tools/broker/kit";
import { PKI_DIR, ROOT } from "../../tools/dev-state";
import { waitFor } from "../../tools/harness/wait";
import { Watcher } from "../../tools/harness/watcher";
import { freePort, waitForTls } from "../../tools/net";
import { generatePki, issueDeviceCert } from "../../tools/pki";
import { createNodeDevice, type NodeDevice } from "../../node/device";
import { Gate } from "../../modules/app/commands/channel";

const ID = "kit-ha";
const HA = "ha-kit";

describe("broker kit, run as printed", { timeout: 60_000 }, () => {
	const dir = mkdtempSync(join(tmpdir(), "smn-kit-"));
	chmodSync(dir, 0o755);	// mkdtemp's 0700 would keep the account mosquitto drops to out (the CLI warns then)
	const kit = join(dir, "kit");
	let port: number;
	let broker: ChildProcess | undefined;
	let output = "";
	let node: NodeDevice | undefined;
	const watchers: Watcher[] = [];

	before(async () => {
		generatePki(PKI_DIR);
		issueDeviceCert(PKI_DIR, OPERATOR);
		issueDeviceCert(PKI_DIR, ID);
		port = await freePort();
		const cli = spawnSync(process.execPath, ["--import", "tsx", "tools/pki-cli.ts", "broker-kit", kit, "--mode", "mtls", "--port", String(port), "--ha-prefix", HA], { cwd: ROOT, encoding: "utf8" });
		assert.equal(cli.status, 0, cli.stderr);
		const run = /^run: +(.*)$/m.exec(cli.stdout)?.[1];
		assert.ok(run, cli.stdout);
		const [command, ...args] = run.split(" ");
		broker = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
		broker.stdout!.on("data", chunk => { output += chunk; });
		broker.stderr!.on("data", chunk => { output += chunk; });
		let exited: string | undefined;
		broker.once("exit", code => { exited = `mosquitto exited ${code}:\n${output}`; });
		await waitForTls(port, 10_000, () => exited);
	});
	after(async () => {
		for (const watcher of watchers)
			await watcher.close();
		await node?.device.stop();
		if (broker && broker.exitCode === null) {
			broker.kill("SIGTERM");
			await new Promise(resolve => broker!.once("exit", resolve));
		}
		rmSync(dir, { recursive: true, force: true });
	});

	const operator = async (topics: string[]) => {
		const watcher = await Watcher.connect({ pkiDir: PKI_DIR, port, topics, clientCert: { cert: `device-${OPERATOR}.pem`, key: `device-${OPERATOR}.key` } });
		watchers.push(watcher);
		return watcher;
	};

	it("keeps its state in the kit's own folder, never /var/lib/mosquitto", () => {
		const conf = readFileSync(join(kit, "mosquitto.conf"), "utf8");
		assert.doesNotMatch(conf, /\/var\/lib\/mosquitto/);
		assert.match(conf, new RegExp(`^persistence_location ${join(kit, "data")}/$`, "m"));
		assert.match(conf, new RegExp(`^message_size_limit ${MESSAGE_SIZE_LIMIT}$`, "m"));
	});

	it("lets a device's Home Assistant discovery through, and Home Assistant's online back to it", async () => {
		const ha = await operator([`${HA}/#`, `devices/${ID}/#`]);
		const legacy = `${HA}/device/${ID}/config`;
		await ha.publish(legacy, JSON.stringify({ dev: { ids: [ID] }, cmps: {} }), true);	// what earlier firmware left
		node = createNodeDevice({
			config: { mqttHost: "localhost", mqttPort: port, deviceId: ID, caCert: "ca.der", clientCert: `device-${ID}.crt.der`, clientKey: `device-${ID}.key.der`, haDiscovery: "true", haPrefix: HA, backoffMin: 200, backoffMax: 1_000 },
			certsDir: PKI_DIR, log: { print: false }, random: () => 0,
		});
		node.device.start();
		await waitFor("the command gate to open", () => node!.device.channel.gate === Gate.Open, 15_000);
		const entities = () => ha.received.filter(message => message.topic.startsWith(`${HA}/`) && message.topic.endsWith(`/${ID}/restart/config`));
		await waitFor("the entities' discovery", () => entities().length > 0, 10_000);
		await waitFor("the old message read and cleared", () => ha.on(legacy).some(message => message.payload === ""), 10_000);
		const before = entities().length;
		await ha.publish(`${HA}/status`, "online");
		await waitFor("discovery again after Home Assistant's online", () => entities().length > before, 10_000);
	});

	it("drops a publish over message_size_limit and delivers one under it", async () => {
		const watcher = await operator([`devices/${ID}/probe`]);
		await watcher.publish(`devices/${ID}/probe`, "x".repeat(MESSAGE_SIZE_LIMIT + 1));
		await watcher.publish(`devices/${ID}/probe`, "small");
		await watcher.waitFor(`devices/${ID}/probe`, payload => payload === "small");
		assert.deepEqual(watcher.on(`devices/${ID}/probe`).map(message => message.payload.length), [5]);
	});

	it("writes its database into the kit's data folder when it stops", async () => {
		broker!.kill("SIGTERM");
		await new Promise(resolve => broker!.once("exit", resolve));
		assert.equal(existsSync(join(kit, "data", "mosquitto.db")), true, output);
	});
});
