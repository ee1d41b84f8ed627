/*
 * The SDK's legacy MQTT client (modules/network/mqtt/mqtt.js), which @moddable/typings
 * does not declare. Only what this project uses; QoS 0, no retain flag on receive.
 */
declare module "mqtt" {
	interface MQTTWill {
		topic: string;
		message: string | ArrayBuffer;
		retain?: boolean;
		quality?: 0;
	}
	interface MQTTOptions {
		host: string;
		port?: number;
		id?: string;
		user?: string;
		password?: string;
		will?: MQTTWill;
		/** keepalive in milliseconds (sent rounded up to whole seconds) */
		timeout?: number;
		Socket?: unknown;
		secure?: Record<string, unknown>;
	}
	class Client {
		constructor(options: MQTTOptions);
		onReady?(): void;
		onMessage?(topic: string, body: ArrayBuffer | null): void;
		onClose?(): void;
		publish(topic: string, data: string | ArrayBuffer, flags?: { retain?: boolean }): void;
		subscribe(topic: string): void;
		/** Sends DISCONNECT unless `immediate`, then closes the socket. */
		close(immediate?: boolean): void;
		/** Reports a failure (traced), calls onClose, closes. Overridable to learn why. */
		fail(message?: string): void;
		/**
		 * Handles one parsed packet (`code` its type, e.g. 0x20 CONNACK with `returnCode`);
		 * fails the client on a CONNACK refusal. Overridable to see packets first.
		 */
		dispatch(message: { code: number; returnCode?: number; topic?: string; payload?: ArrayBuffer | null }): unknown;
		/** Parses bytes from the socket (any split), dispatching each complete packet. Overridable to filter them. */
		received(buffer: ArrayBuffer): void;
		/** 1 while waiting for CONNACK, 2 once it was accepted, -1 when closed. */
		state: number;
		/** The socket (the `Socket` option's instance); deleted once closed. */
		ws?: { write(...data: unknown[]): number };
	}
	export { Client as default };
}
