// Bench baseline: one reading per interval over MQTT/TLS trusting the bundled CA; reconnects after a fixed delay.
// As any user of the SDK's mqtt module must: publish() throws once the socket is gone
// (the close callback can come later, or never after a write fails), so a throw is a
// lost connection. Each client's callbacks are ignored once it has been replaced.
import config from "mc/config";
import Client from "mqtt";
import SecureSocket from "securesocket";
import Resource from "Resource";
import Timer from "timer";

const topic = `bench/${config.deviceId}/telemetry`;
const secure = { protocolVersion: 0x0303, certificate: new Resource(config.caCert) };
let client, ready = false, seq = 0;

function connect() {
	trace("baseline: connecting\n");
	const current = new Client({ host: config.mqttHost, port: Number(config.mqttPort), id: config.deviceId, timeout: 60_000, Socket: SecureSocket, secure });
	client = current;
	current.onReady = () => {
		if (client !== current)
			return;
		ready = true;
		trace("baseline: online\n");
		publish();
	};
	current.onClose = () => lost(current, "closed");
}

function lost(which, why) {
	if (client !== which)
		return;		// this client was already given up
	client = undefined;
	ready = false;
	trace(`baseline: offline (${why})\n`);
	try {
		which.close(true);
	}
	catch {
		// already closed
	}
	Timer.set(connect, Number(config.retry));
}

function publish() {
	if (!ready)
		return;
	try {
		client.publish(topic, JSON.stringify({ seq: ++seq, ts: Date.now(), values: { temperature: 20 + Math.random() * 5 } }));
	}
	catch (error) {
		lost(client, `publish failed: ${error.message}`);
	}
}

Timer.repeat(publish, Number(config.interval));
connect();
