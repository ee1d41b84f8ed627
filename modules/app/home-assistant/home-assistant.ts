/*
 * HomeAssistant: keeps the device's discovery messages at the broker and answers Home
 * Assistant's announcements.
 *
 * - attach(): on every ready session, publishes the retained discovery messages (one
 *   per entity, discovery.ts) through its own latest-wins Outbox (a full socket is
 *   retried, a publish that throws ends the session through onSendFailed). Each is far
 *   below one publish's limit by construction (discovery.ts, measured by its unit
 *   test); were one ever larger it would not be sent and the device would stay online:
 *   logged once, and `unsent` says why (the status command shows it).
 * - subscriptions: `<haPrefix>/status` and the device-based discovery topic earlier
 *   firmware published (`<haPrefix>/device/<id>/config`); receive(topic, payload)
 *   takes what arrives there (listensTo(topic) says which).
 * - announce(payload): a message on `<haPrefix>/status`. "online" (Home Assistant
 *   started, or its MQTT integration reconnected) publishes the messages again after a
 *   random delay of REPUBLISH_MIN + random() * REPUBLISH_SPREAD ms, so a fleet does not
 *   answer all at once; announcements while one is pending add nothing; anything else
 *   is ignored.
 * - Handover from the device-based message: anything but an empty payload or
 *   MIGRATE on the old topic (its retained message, which arrives on subscribing, too
 *   large to be read or not) is handed over as Home Assistant documents a rollback to
 *   single-component discovery: MIGRATE (retained) on the old topic, so Home Assistant
 *   unloads those entities and keeps them registered; the component messages again,
 *   which it attaches to the same entities; then an empty retained message, which
 *   deletes the old one. MIGRATE found there (a handover cut short) finishes it the
 *   same way; the device's own echo of it, in the session that sent it, is ignored.
 * - detach() cancels a pending re-publication; the next session publishes anyway.
 * - updateState(json): the update entity's state, retained on the `update` topic
 *   (latest-wins: only the newest waits for a full socket).
 * - The message is built when it is sent, never kept: it is rarely needed and can be
 *   several KB.
 * Limits: the XS client cannot tell a retained announcement, so a broker that retains
 *   Home Assistant's "online" costs one extra publication per session.
 * Removing the device from Home Assistant: publish an empty retained message on each
 * discovery topic (the README shows how); the device publishes them again on its next
 * session unless `haDiscovery` is off.
 */

import type { Log, Sensor, Session, TimerHandle, Timers } from "../ports";
import type { Config } from "../config/config";
import type { Topics } from "../connection/topics";
import { buildDiscovery, deviceDiscoveryTopic, haStatusTopic } from "./discovery";
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
	/** Fleet releases are followed: the update entity is offered, its state kept retained. */
	update?: { state(): string; watch(listener: (state: string) => void): void };
	timers: Timers;
	log: Log;
	random: () => number;
	onSendFailed(detail: string): void;
}

export const REPUBLISH_MIN = 500;		// ms
export const REPUBLISH_SPREAD = 4_500;	// ms: the delay is random in MIN..MIN+SPREAD
/** A handover pushes MIGRATE, one message per entity (MAX_PINS, the sensor's values, restart, update) and the deletion. */
export const HANDOVER_MESSAGES = 48;
/** Home Assistant's request to unload, not delete, the entities of a discovery topic. */
export const MIGRATE = JSON.stringify({ migrate_discovery: true });

export class HomeAssistant {
	/** `<haPrefix>/status`, where Home Assistant announces itself. */
	readonly statusTopic: string;
	/** `<haPrefix>/device/<id>/config`, the one message earlier firmware published. */
	readonly legacyTopic: string;
	readonly #outbox: Outbox;
	#handedOver = false;	// this session sent MIGRATE and cleared the old topic
	#pending: TimerHandle | undefined;
	#published = 0;
	#unsent: string | undefined;
	readonly #o: HomeAssistantOptions;

	constructor(options: HomeAssistantOptions) {
		this.#o = options;
		this.statusTopic = haStatusTopic(options.config.haPrefix);
		this.legacyTopic = deviceDiscoveryTopic(options.config.haPrefix, options.config.deviceId);
		this.#outbox = new Outbox({
			timers: options.timers, log: options.log, capacity: HANDOVER_MESSAGES, onSendFailed: options.onSendFailed,
			onUnsendable: (topic, bytes) => { this.#unsent = `discovery of ${bytes} bytes on ${topic} exceeds one publish`; },
		});
		options.update?.watch(state => this.updateState(state));
	}

	/** Times the discovery messages were handed to the outbox since boot. */
	get published(): number { return this.#published; }
	/** Why a discovery message was not sent, once one was too large; else undefined. */
	get unsent(): string | undefined { return this.#unsent; }
	/** What to subscribe to on every session. */
	get subscriptions(): string[] { return [this.statusTopic, this.legacyTopic]; }

	listensTo(topic: string): boolean {
		return topic === this.statusTopic || topic === this.legacyTopic;
	}

	receive(topic: string, payload: string): void {
		if (topic === this.statusTopic)
			this.announce(payload);
		else if (topic === this.legacyTopic && payload !== "" && !(payload === MIGRATE && this.#handedOver))
			this.#handOver();
	}

	attach(session: Session): void {
		this.#handedOver = false;
		if (this.#o.update)
			this.updateState(this.#o.update.state());
		this.#publish();
		this.#outbox.attach(session);
	}

	detach(): void {
		this.#o.timers.clear(this.#pending);
		this.#pending = undefined;
		this.#outbox.detach();
	}

	updateState(state: string): void {
		this.#outbox.put(this.#o.topics.update, state, true);
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

	#handOver(): void {
		this.#o.log(`ha: handing the entities over from ${this.legacyTopic} to one discovery message each`);
		this.#handedOver = true;
		this.#outbox.push(this.legacyTopic, MIGRATE, true);
		this.#publish(true);
		this.#outbox.push(this.legacyTopic, "", true);
	}

	/** `inOrder`: pushed behind what waits (the handover's order), not put in place. */
	#publish(inOrder = false): void {
		const { config, topics, firmwareVersion, sensor, restart, update } = this.#o;
		const { messages, skipped } = buildDiscovery(config.haPrefix, {
			deviceId: config.deviceId, topics, firmwareVersion, restart, update: update !== undefined,
			outputs: Object.keys(config.outputs), inputs: Object.keys(config.inputs),
			values: sensor.describe?.() ?? [],
		});
		for (const reason of skipped)
			this.#o.log(`ha: left out ${reason}`);
		this.#published++;
		const largest = Math.max(0, ...messages.map(message => utf8Length(message.payload)));
		this.#o.log(`ha: discovery of ${messages.length} entities on ${config.haPrefix}/<component>/${config.deviceId}/<key>/config (largest ${largest} bytes)`);
		for (const { topic, payload } of messages)
			if (inOrder)
				this.#outbox.push(topic, payload, true);
			else
				this.#outbox.put(topic, payload, true);
	}
}
