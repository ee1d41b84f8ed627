/*
 * HomeAssistant: keeps the device's discovery message at the broker and answers Home
 * Assistant's announcements.
 *
 * - attach(): on every ready session, publishes the retained discovery message
 *   (discovery.ts) through its own latest-wins Outbox (a full socket is retried,
 *   a publish that throws ends the session through onSendFailed). A message too large
 *   for one publish is not sent and the device stays online: logged once, and
 *   `unsent` says why (the status command shows it).
 * - announce(payload): a message on `<haPrefix>/status`. "online" (Home Assistant
 *   started, or its MQTT integration reconnected) publishes the message again after a
 *   random delay of REPUBLISH_MIN + random() * REPUBLISH_SPREAD ms, so a fleet does not
 *   answer all at once; announcements while one is pending add nothing; anything else
 *   is ignored.
 * - detach() cancels a pending re-publication; the next session publishes anyway.
 * - The message is built when it is sent, never kept: it is rarely needed and can be
 *   several KB.
 * Limits: the XS client cannot tell a retained announcement, so a broker that retains
 *   Home Assistant's "online" costs one extra publication per session.
 * Removing the device from Home Assistant: publish an empty retained message on the
 * discovery topic (the README shows how); the device publishes it again on its next
 * session unless `haDiscovery` is off.
 */

import type { Log, Sensor, Session, TimerHandle, Timers } from "../ports";
import type { Config } from "../config/config";
import type { Topics } from "../connection/topics";
import { buildDiscovery, haStatusTopic } from "./discovery";
import { utf8Length } from "../limits";
import { Outbox } from "../connection/outbox";

export interface HomeAssistantOptions {
	config: Pick<Config, "deviceId" | "haPrefix" | "outputs" | "inputs">;
	topics: Topics;
	firmwareVersion: string;
	/** Describes its values (Sensor.describe); one without a description adds no sensors. */
	sensor: Sensor;
	/** The restart command is available (the button is offered). */
	restart: boolean;
	timers: Timers;
	log: Log;
	random: () => number;
	onSendFailed(detail: string): void;
}

export const REPUBLISH_MIN = 500;		// ms
export const REPUBLISH_SPREAD = 4_500;	// ms: the delay is random in MIN..MIN+SPREAD

export class HomeAssistant {
	/** `<haPrefix>/status`, where Home Assistant announces itself. */
	readonly statusTopic: string;
	readonly #outbox: Outbox;
	#pending: TimerHandle | undefined;
	#published = 0;
	#unsent: string | undefined;
	readonly #o: HomeAssistantOptions;

	constructor(options: HomeAssistantOptions) {
		this.#o = options;
		this.statusTopic = haStatusTopic(options.config.haPrefix);
		this.#outbox = new Outbox({
			timers: options.timers, log: options.log, capacity: 1, onSendFailed: options.onSendFailed,
			onUnsendable: (topic, bytes) => { this.#unsent = `discovery of ${bytes} bytes exceeds one publish`; },
		});
	}

	/** Discovery messages handed to the outbox since boot. */
	get published(): number { return this.#published; }
	/** Why the discovery message was not sent, once it was too large; else undefined. */
	get unsent(): string | undefined { return this.#unsent; }

	attach(session: Session): void {
		this.#publish();
		this.#outbox.attach(session);
	}

	detach(): void {
		this.#o.timers.clear(this.#pending);
		this.#pending = undefined;
		this.#outbox.detach();
	}

	announce(payload: string): void {
		if (payload !== "online" || this.#pending !== undefined)
			return;
		const { timers, random, log } = this.#o;
		const delay = Math.round(REPUBLISH_MIN + random() * REPUBLISH_SPREAD);
		log(`ha: Home Assistant is online, discovery again in ${delay} ms`);
		this.#pending = timers.set(() => {
			this.#pending = undefined;
			this.#publish();
		}, delay);
	}

	#publish(): void {
		const { config, topics, firmwareVersion, sensor, restart } = this.#o;
		const { topic, payload, skipped } = buildDiscovery(config.haPrefix, {
			deviceId: config.deviceId, topics, firmwareVersion, restart,
			outputs: Object.keys(config.outputs), inputs: Object.keys(config.inputs),
			values: sensor.describe?.() ?? [],
		});
		for (const reason of skipped)
			this.#o.log(`ha: left out ${reason}`);
		this.#published++;
		this.#o.log(`ha: discovery on ${topic} (${utf8Length(payload)} bytes)`);
		this.#outbox.put(topic, payload, true);
	}
}
