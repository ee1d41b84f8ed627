// Bench baseline: one reading per interval over MQTT/TLS trusting the bundled CA; reconnects after a fixed delay.
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
	client = new Client({ host: config.mqttHost, port: Number(config.mqttPort), id: config.deviceId, timeout: 60_000, Socket: SecureSocket, secure });
	client.onReady = () => {
		ready = true;
		trace("baseline: online\n");
		publish();
	};
	client.onClose = () => {
		ready = false;
		trace("baseline: offline\n");
		Timer.set(connect, Number(config.retry));
	};
}

function publish() {
	if (ready)
		client.publish(topic, JSON.stringify({ seq: ++seq, ts: Date.now(), values: { temperature: 20 + Math.random() * 5 } }));
}

Timer.repeat(publish, Number(config.interval));
connect();
