/*
 * The retained Last Will: when the device's connection dies without DISCONNECT the
 * broker publishes {"online":false} retained on its status topic; the device then
 * reconnects and its birth replaces it.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../tools/broker/broker";
import { State } from "../../modules/app/connection/connection";
import { Fixture } from "../../tools/harness/fixture";
import { startProxy, type TcpProxy } from "../../tools/harness/tcp-proxy";
import { waitFor } from "../../tools/harness/wait";
import { parse } from "../../tools/harness/watcher";

const isOffline = (payload: unknown) => JSON.stringify(payload) === '{"online":false}';
const isBirth = (payload: unknown) => typeof payload === "object" && payload !== null && (payload as { online?: unknown }).online === true;

describe("last will", () => {
	const fixture = new Fixture();
	let broker: Broker;
	let proxy: TcpProxy;

	before(async () => {
		broker = await fixture.broker();
		proxy = await startProxy(broker.port);
		fixture.onCleanup(() => proxy.close());
	});
	after(() => fixture.cleanup());

	it("is published retained when the cable is pulled, and replaced by the next birth", async () => {
		const STATUS = "devices/it-will-cut/status";
		const node = fixture.device(proxy.port, { deviceId: "it-will-cut" });
		const live = await fixture.watcher({ port: broker.port, topics: [STATUS] });
		node.device.start();
		await live.waitFor(STATUS, isBirth);

		proxy.refuse(true);
		proxy.cut();
		await live.waitFor(STATUS, isOffline);
		const late = await fixture.watcher({ port: broker.port, topics: [STATUS] });
		const retained = await late.waitFor(STATUS);
		assert.equal(retained.retain, true, "the will is retained");
		assert.deepEqual(parse(retained.payload), { online: false });
		await waitFor("the device to notice", () => node.device.connection.state !== State.Online);

		proxy.refuse(false);
		await waitFor("the device back online", () => node.device.connection.state === State.Online, 20_000);
		const later = await fixture.watcher({ port: broker.port, topics: [STATUS] });
		const birth = await later.waitFor(STATUS);
		assert.equal(birth.retain, true);
		assert.equal((parse(birth.payload) as { online: boolean }).online, true);
	});

	it("is published when the device's own socket is destroyed", async () => {
		const STATUS = "devices/it-will-socket/status";
		const node = fixture.device(broker.port, { deviceId: "it-will-socket" });
		const live = await fixture.watcher({ port: broker.port, topics: [STATUS] });
		node.device.start();
		await waitFor("device online", () => node.device.connection.state === State.Online);
		await live.waitFor(STATUS, isBirth);
		assert.equal(node.cut(), true, "there was a socket to cut");
		const will = await live.waitFor(STATUS, isOffline);
		const index = live.on(STATUS).indexOf(will);
		await waitFor("a new birth after the will", () => live.on(STATUS).slice(index + 1).some(message => isBirth(parse(message.payload))), 20_000);
		assert.equal(node.device.connection.reconnects, 1);
		assert.equal(node.transport.resumed, 1, "the reconnect resumed the broker's TLS session");
	});
});
