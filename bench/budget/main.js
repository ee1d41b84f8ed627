// Bench memory budget (bench builds only): builds the firmware's parts one at a time
// with the same adapters and options as main.ts and the Device, keeps each referenced,
// and after each forces a GC and traces what the XS heaps grew by:
//   budget: <part> chunk=<bytes> slot=<bytes>
// Updates are built on first use: the fetcher, update target and Ota exist only from
// the first ota.start, the release follower from the first release message, so the
// idle row is what a device keeps before either (it subscribes to its release topic).
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
import { createTransport } from "mqtt-tls";
import { lingeringSecureSocket } from "tls-socket";
import { loadCredentials } from "credentials";
import { ecdsa } from "ota/ecdsa";
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
const topics = makeTopics(settings.topicPrefix, settings.deviceId);
keep.push(settings, topics);
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

const { credentials } = loadCredentials({ ...settings, caCerts: rootNames(settings.caCert) });
const Socket = lingeringSecureSocket(credentials.roots);
keep.push(credentials, Socket);
measure("TLS client class, shared (CA, socket class, session cache)");
const transport = createTransport({ host: settings.mqttHost, port: settings.mqttPort, credentials, Socket });
keep.push(transport);
measure("mqtt-tls transport");
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
	const otaKey = Resource.exists(settings.otaKey) ? new Uint8Array(new Resource(settings.otaKey).slice(0)) : undefined;
	const updates = new Updates({
		ports: { createFetcher: () => createFetcher(Socket), createHash, openUpdateTarget: () => createUpdateTarget("budget", quiet, storage), ecdsa, otaKey },
		topic: topics.ota, firmwareVersion: "0", keyName: settings.otaKey, confirmTimeout: settings.otaConfirmTimeout,
		storage, timers, log: quiet, restart: quiet, freeHeap: undefined, onSendFailed: quiet,
		fleet: { ...settings, random: Math.random },	// fleet releases follow settings.model (the platform's)
	});
	keep.push(updates);
	measure("updates (idle: boot slots read, trial; the rest by ota.start or a release)");
	const commands = new Commands({
		gpio, storage, timers, log: quiet, status: () => ({}), setInterval: quiet, restart: undefined,
		startOta: request => updates.begin(request), cancelOta: () => updates.cancel(),
	});
	keep.push(commands);
	measure("command table");
	keep.push(new CommandChannel({ topics, boot: 1, commands, gpio, timers, log: quiet, capacity: 8, onSendFailed: quiet }));
	measure("command channel");
	trace("budget: done\n");
}
