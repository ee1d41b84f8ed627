// Bench memory budget (bench builds only): builds the firmware's parts one at a time
// with the same adapters and options as main.ts and the Device, keeps each referenced,
// and after each forces a GC and traces what the XS heaps grew by:
//   budget: <part> chunk=<bytes> slot=<bytes>
// Modules are preloaded (code in flash), so the figures are each part's live state.
import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import Resource from "Resource";
import { loadConfig, rootNames } from "app/config/config";
import { Backoff } from "app/connection/backoff";
import { Telemetry } from "app/connection/telemetry";
import { Connection } from "app/connection/connection";
import { Gpio } from "app/commands/gpio";
import { Updates } from "app/updates/updates";
import { Commands } from "app/commands/table";
import { CommandChannel } from "app/commands/channel";
import { makeTopics } from "app/connection/topics";
import { loadCredentials } from "credentials";
import { ecdsa } from "ota/ecdsa";
import { createTransport } from "mqtt-tls";
import { createLink } from "board/link";
import { createSensor } from "board/sensors";
import { createPins } from "board/pins";
import { createFetcher, createHash } from "ota/transfer";
import { createUpdateTarget } from "board/ota-target";
import { clock, log, storage, timers } from "runtime";

const QUEUED = 50;	// readings queued to measure one entry
const CHUNK = Instrumentation.map("XS Chunk Heap Used");
const SLOT = Instrumentation.map("XS Slot Heap Used");
const keep = [];	// every part stays referenced, as in the running firmware
let last;

function measure(part, per = 1) {
	Debug.gc();
	const now = { chunk: Instrumentation.get(CHUNK), slot: Instrumentation.get(SLOT) };
	trace(last ? `budget: ${part} chunk=${Math.round((now.chunk - last.chunk) / per)} slot=${Math.round((now.slot - last.slot) / per)}\n` : `budget: ${part} chunk=${now.chunk} slot=${now.slot}\n`);
	last = now;
}

const quiet = () => {};
measure("start (runtime, probe)");
const { config: settings } = loadConfig(config, { defaultDeviceId: "budget", wifiRequired: false });
const { credentials } = loadCredentials({ ...settings, caCerts: rootNames(settings.caCert) });
const topics = makeTopics(settings.topicPrefix, settings.deviceId);
keep.push(settings, credentials, topics);
measure("config");

const telemetry = new Telemetry({
	sensor: createSensor(settings.sensor, settings.adcPin), clock, timers, log: quiet, boot: 1, capacity: settings.queueSize,
	telemetryTopic: topics.telemetry, syncTopic: topics.sync, onSendFailed: quiet,
});
keep.push(telemetry);
measure("telemetry (queue empty)");
for (let i = 0; i < QUEUED; i++)
	telemetry.sample();
measure("telemetry queue, per entry", QUEUED);

const transport = createTransport({ host: settings.mqttHost, port: settings.mqttPort, credentials });
keep.push(transport);
measure("mqtt-tls transport (CA, socket class, session cache)");
const network = createLink({ ssid: settings.ssid, password: settings.password, sntp: settings.sntp, log: quiet });
keep.push(network);
measure("link");
const connection = new Connection({
	transport, network,
	clock, timers, log: quiet, connectTimeout: settings.connectTimeout,
	backoff: new Backoff({ min: settings.backoffMin, max: settings.backoffMax, random: Math.random }),
	session: { clientId: "budget", keepalive: settings.keepalive, will: { topic: topics.status, payload: "{}", retain: true } },
	listener: { onOnline: () => Timer.set(online, 500), onOffline: quiet, onMessage: quiet },
});
keep.push(connection);
measure("connection state machine (idle)");
connection.start();

function online() {
	measure("connection (online: TLS session, MQTT client, socket)");
	const gpio = new Gpio({ pins: createPins(quiet), outputs: settings.outputs, inputs: settings.inputs, timers, log: quiet, onChange: quiet });
	gpio.start();
	keep.push(gpio);
	measure("gpio");
	const fetcher = createFetcher(credentials.roots);
	keep.push(fetcher);
	measure("ota fetcher (CA, socket class, session cache)");
	const target = createUpdateTarget("budget", quiet, storage);
	keep.push(target);
	measure("ota target");
	const otaKey = Resource.exists(settings.otaKey) ? new Uint8Array(new Resource(settings.otaKey).slice(0)) : undefined;
	const updates = new Updates({
		ports: { fetcher, createHash, updateTarget: target, bootSlots: target, otaKey, ecdsa }, topic: topics.ota,
		firmwareVersion: target.version() ?? "1.0.0", keyName: settings.otaKey, confirmTimeout: settings.otaConfirmTimeout,
		storage, timers, log: quiet, restart: quiet, freeHeap: undefined, onSendFailed: quiet,
	});
	keep.push(updates);
	measure("ota state machine, trial, signature key + outbox (idle)");
	const commands = new Commands({
		gpio, storage, timers, log: quiet, status: () => ({}), setInterval: quiet, restart: undefined,
		startOta: request => updates.begin(request), cancelOta: () => updates.cancel(),
	});
	keep.push(commands);
	measure("command table");
	keep.push(new CommandChannel({ topics, boot: 1, commands, gpio, timers, log: quiet, capacity: 8, onSendFailed: quiet, onSettled: () => updates.settled() }));
	measure("command channel");
	trace("budget: done\n");
}
