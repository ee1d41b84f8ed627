/*
 * Telemetry: samples the sensor, numbers readings and delivers them at least once.
 *
 * - Each reading is `{"boot","seq","ts","values"}`; seq counts from 1 each boot, ts is
 *   null until the wall clock is set. A sensor that throws yields no reading and is
 *   counted in `sensorErrors`.
 * - Readings wait in an OfflineQueue until the broker has them. The SDK client is
 *   QoS 0, so delivery is confirmed by a marker "<boot>:<seq>" published on the
 *   device's own sync topic after each batch: the broker relays a connection's
 *   messages in order, so when the marker comes back every reading up to that seq
 *   was accepted. Whatever is unconfirmed when a session ends is sent again, and
 *   consumers de-duplicate by (boot, seq). The command channel's own markers
 *   ("cmd:<boot>:<n>") share the sync topic; confirm() ignores them like any other
 *   payload that is not "<boot>:<seq>".
 * - Sending is paced (BATCH readings per turn) so a long backlog neither floods the
 *   TLS socket nor starves the event loop; a socket that is full (publish returns
 *   false) is retried on the next turn, never counted as a failure.
 */

import type { Clock, Log, Sensor, Session, Timers, TimerHandle } from "../ports";
import { OfflineQueue } from "./offline-queue";

export interface TelemetryOptions {
	sensor: Sensor;
	clock: Clock;
	timers: Timers;
	log: Log;
	boot: number;
	capacity: number;
	telemetryTopic: string;
	syncTopic: string;
	/** Called when a publish throws: the session is no longer usable. */
	onSendFailed(detail: string): void;
}

const BATCH = 8;		// readings per send turn
const PACE = 50;		// ms between send turns while a backlog drains
const MAX_SYNC = 32;	// bytes: a sync marker is "<boot>:<seq>"

export class Telemetry {
	#seq = 0;
	#sensorErrors = 0;
	#session: Session | undefined;
	#pacer: TimerHandle | undefined;
	#markerDue = false;		// readings went out since the last sync marker
	readonly #queue: OfflineQueue<string>;
	readonly #o: TelemetryOptions;

	constructor(options: TelemetryOptions) {
		this.#o = options;
		this.#queue = new OfflineQueue<string>(options.capacity);
	}

	get seq(): number { return this.#seq; }
	get queued(): number { return this.#queue.length; }
	get dropped(): number { return this.#queue.dropped; }
	get sensorErrors(): number { return this.#sensorErrors; }

	/** Takes one reading and queues it; sends it at once when online. */
	sample(): void {
		let values: Record<string, number>;
		try {
			values = this.#o.sensor.read();
		}
		catch (error) {
			this.#sensorErrors++;
			this.#o.log(`telemetry: sensor failed: ${error}`);
			return;
		}
		const seq = ++this.#seq;
		const reading = JSON.stringify({ boot: this.#o.boot, seq, ts: this.#o.clock.wallTime(), values });
		const dropped = this.#queue.dropped;
		this.#queue.push(seq, reading);
		if (this.#queue.dropped !== dropped)
			this.#o.log(`telemetry: queue full, dropped oldest (${this.#queue.dropped} dropped so far)`);
		this.#send();
	}

	/** A session is ready: resend everything unconfirmed, in order. */
	attach(session: Session): void {
		this.#session = session;
		this.#queue.rewind();
		this.#send();
	}

	/** The session is gone: keep everything unconfirmed for the next one. */
	detach(): void {
		this.#session = undefined;
		this.#o.timers.clear(this.#pacer);
		this.#pacer = undefined;
		this.#markerDue = false;
		this.#queue.rewind();
	}

	/** Handles a message on the sync topic: true when it confirmed a reading; ignores anything malformed or stale. */
	confirm(payload: string): boolean {
		if (payload.length > MAX_SYNC)
			return false;
		const match = /^(\d+):(\d+)$/.exec(payload);
		if (!match || Number(match[1]) !== this.#o.boot)
			return false;
		return this.#queue.confirm(Number(match[2])) > 0;
	}

	#send(): void {
		const session = this.#session;
		if (!session || this.#pacer !== undefined)
			return;
		const { telemetryTopic, syncTopic, boot } = this.#o;
		try {
			for (const reading of this.#queue.peekUnsent(BATCH)) {
				if (!session.publish(telemetryTopic, reading, false))
					break;	// socket full: the rest waits for the next turn
				this.#queue.markSent(1);
				this.#markerDue = true;
			}
			const last = this.#queue.lastSentKey;	// undefined once overflow dropped every sent reading
			if (last === undefined)
				this.#markerDue = false;
			else if (this.#markerDue && session.publish(syncTopic, `${boot}:${last}`, false))
				this.#markerDue = false;
		}
		catch (error) {
			this.#o.onSendFailed(`telemetry publish: ${error}`);
			return;
		}
		if (this.#queue.unsent || this.#markerDue)
			this.#pacer = this.#o.timers.set(() => {
				this.#pacer = undefined;
				this.#send();
			}, PACE);
	}
}
