/*
 * Connection: the one state machine that keeps an MQTT session to the broker.
 *
 * - States: idle -> waiting-for-network -> waiting-for-clock -> connecting -> online,
 *   and backing-off between attempts; stopped is final. Every transition is traced
 *   once as "mqtt: <from> -> <to> (<reason>)".
 * - No attempt while the network is down; none before the wall clock is set (TLS
 *   checks certificate dates). An attempt that is not ready within `connectTimeout`
 *   is abandoned.
 * - Retries forever with capped exponential backoff and full jitter; the window is
 *   reset only after a session stayed online for STABLE_AFTER, so a broker that
 *   accepts and then drops us does not get hammered.
 * - Why the last session ended is kept (`lastReason`, `lastDetail`) for diagnostics. A
 *   CONNACK refusal is its own reason (`refused`, with the broker's return code) and
 *   backs off like any failed attempt: repeated refusals reach the cap, never a stop.
 * Limits: one session at a time; the listener is told of online/offline only.
 */

import type { Clock, Log, Network, Session, SessionOptions, Timers, TimerHandle, Transport } from "../ports";
import { Backoff } from "./backoff";

export enum State {
	Idle = "idle",
	WaitingForNetwork = "waiting-for-network",
	WaitingForClock = "waiting-for-clock",
	Connecting = "connecting",
	Online = "online",
	BackingOff = "backing-off",
	Stopped = "stopped",
}

export enum Reason {
	None = "none",
	NetworkDown = "network-down",
	ConnectTimeout = "connect-timeout",
	ConnectFailed = "connect-failed",		// socket or TLS failure before ready
	Refused = "refused",					// the broker answered CONNECT with a non-zero return code
	ConnectionLost = "connection-lost",		// closed by peer or transport after ready
	PublishFailed = "publish-failed",		// a write to the session threw
	Shutdown = "shutdown",
}

export interface ConnectionListener {
	/** The session is ready: publish birth, subscribe. */
	onOnline(session: Session): void;
	/** The session is gone (never called for one that was never online). */
	onOffline(reason: Reason): void;
	/** `retained` as the transport reported it (undefined: it cannot tell). */
	onMessage(topic: string, payload: string, retained: boolean | undefined): void;
}

export interface ConnectionOptions {
	transport: Transport;
	network: Network;
	clock: Clock;
	timers: Timers;
	log: Log;
	backoff: Backoff;
	session: SessionOptions;
	connectTimeout: number;	// ms
	listener: ConnectionListener;
}

// MQTT 3.1.1 CONNACK return codes (section 3.2.2.3), for the trace and `status`.
const REFUSALS: Record<number, string> = {
	1: "unacceptable protocol version",
	2: "identifier rejected",
	3: "server unavailable",
	4: "bad user name or password",
	5: "not authorised",
};

/** "code 5, not authorised": the detail of a refusal. */
export function describeRefusal(code: number): string {
	return `code ${code}, ${REFUSALS[code] ?? "unknown return code"}`;
}

const CLOCK_POLL = 1_000;		// ms between checks for a set wall clock
const STABLE_AFTER = 30_000;	// ms online before the backoff window resets

export class Connection {
	#state = State.Idle;
	#session: Session | undefined;
	#timer: TimerHandle | undefined;
	#onlineSince = 0;		// ticks when the current or last session became ready
	#everOnline = false;
	#reconnects = 0;
	#lastReason = Reason.None;
	#lastDetail = "";
	readonly #o: ConnectionOptions;

	constructor(options: ConnectionOptions) {
		this.#o = options;
		options.network.onChange(up => this.#networkChanged(up));
	}

	get state(): State { return this.#state; }
	get lastReason(): Reason { return this.#lastReason; }
	get lastDetail(): string { return this.#lastDetail; }
	/** Sessions that became ready after the first. */
	get reconnects(): number { return this.#reconnects; }
	get session(): Session | undefined { return this.#state === State.Online ? this.#session : undefined; }

	start(): void {
		if (this.#state === State.Idle)
			this.#proceed(Reason.None);
	}

	/**
	 * Ends the session for good: runs `farewell` on a live session, then sends DISCONNECT,
	 * unless the farewell returned false or threw (then the socket is just closed).
	 */
	stop(farewell?: (session: Session) => boolean | void): void {
		if (this.#state === State.Stopped)
			return;
		const session = this.#state === State.Online ? this.#session : undefined;
		let said = true;
		if (session && farewell) {
			try { said = farewell(session) !== false; } catch { said = false; }
		}
		// A farewell that could not be written must not be followed by DISCONNECT: that
		// would make the broker discard the will, which says the same thing.
		this.#drop(Reason.Shutdown, "stopped by the application", said);
		this.#enter(State.Stopped, Reason.Shutdown);
	}

	/** A publish through the session failed: treat the session as lost. */
	fail(detail: string): void {
		if (this.#state === State.Online)
			this.#lost(Reason.PublishFailed, detail);
	}

	#enter(next: State, reason: Reason, detail = ""): void {
		const from = this.#state;
		this.#state = next;
		const why = reason === Reason.None ? "" : ` (${reason}${detail ? ": " + detail : ""})`;
		this.#o.log(`mqtt: ${from} -> ${next}${why}`);
	}

	/** Moves to the first state whose precondition is not met yet, or connects. */
	#proceed(reason: Reason): void {
		const { network, clock, timers } = this.#o;
		timers.clear(this.#timer);
		this.#timer = undefined;
		if (!network.isUp())
			return this.#enter(State.WaitingForNetwork, reason);
		if (clock.wallTime() === null) {
			if (this.#state !== State.WaitingForClock)
				this.#enter(State.WaitingForClock, reason);
			this.#timer = timers.set(() => this.#proceed(Reason.None), CLOCK_POLL);
			return;
		}
		this.#connect(reason);
	}

	#connect(reason: Reason): void {
		const { transport, timers, session, connectTimeout } = this.#o;
		this.#enter(State.Connecting, reason);
		this.#timer = timers.set(() => this.#failAttempt(Reason.ConnectTimeout, `no CONNACK within ${connectTimeout} ms`), connectTimeout);
		let current: Session | undefined;
		const isCurrent = () => current !== undefined && current === this.#session;
		try {
			current = this.#session = transport.open(session, {
				onReady: () => { if (isCurrent()) this.#ready(); },
				onMessage: (topic, payload, retained) => { if (isCurrent() && this.#state === State.Online) this.#o.listener.onMessage(topic, payload, retained); },
				onRefused: code => {
					if (!isCurrent())
						return;
					this.#session = undefined;
					this.#failAttempt(Reason.Refused, describeRefusal(code));
				},
				onClose: detail => {
					if (!isCurrent())
						return;
					this.#session = undefined;
					if (this.#state === State.Online)
						this.#lost(Reason.ConnectionLost, detail);
					else if (this.#state === State.Connecting)
						this.#failAttempt(Reason.ConnectFailed, detail);
				},
			});
		}
		catch (error) {
			this.#session = undefined;
			this.#failAttempt(Reason.ConnectFailed, String(error));
		}
	}

	#ready(): void {
		if (this.#state !== State.Connecting)
			return;
		this.#o.timers.clear(this.#timer);
		this.#timer = undefined;
		if (this.#everOnline)
			this.#reconnects++;
		this.#everOnline = true;
		this.#onlineSince = this.#o.clock.ticks();
		this.#enter(State.Online, Reason.None);
		this.#o.listener.onOnline(this.#session!);
	}

	#failAttempt(reason: Reason, detail: string): void {
		if (this.#state !== State.Connecting)
			return;
		this.#drop(reason, detail, false);
		this.#backOff(reason, detail);
	}

	#lost(reason: Reason, detail: string): void {
		if (this.#o.clock.ticks() - this.#onlineSince >= STABLE_AFTER)
			this.#o.backoff.reset();
		this.#drop(reason, detail, false);
		this.#o.listener.onOffline(reason);
		if (reason === Reason.NetworkDown)
			this.#enter(State.WaitingForNetwork, reason, detail);
		else
			this.#backOff(reason, detail);
	}

	#backOff(reason: Reason, detail: string): void {
		const wait = this.#o.backoff.next();
		this.#enter(State.BackingOff, reason, `${detail}; retry in ${wait} ms`);
		this.#timer = this.#o.timers.set(() => this.#proceed(Reason.None), wait);
	}

	/** Forgets the current session and timer, closing the session if one is open. */
	#drop(reason: Reason, detail: string, graceful: boolean): void {
		this.#lastReason = reason;
		this.#lastDetail = detail;
		this.#o.timers.clear(this.#timer);
		this.#timer = undefined;
		const session = this.#session;
		this.#session = undefined;
		if (session) {
			try { session.close(graceful); } catch { /* already closed */ }
		}
	}

	#networkChanged(up: boolean): void {
		switch (this.#state) {
			case State.WaitingForNetwork:
				if (up)
					this.#proceed(Reason.None);
				break;
			case State.Online:
				if (!up)
					this.#lost(Reason.NetworkDown, "link lost");
				break;
			case State.Connecting:
			case State.BackingOff:
			case State.WaitingForClock:
				if (!up) {
					this.#drop(Reason.NetworkDown, "link lost", false);
					this.#enter(State.WaitingForNetwork, Reason.NetworkDown);
				}
				break;
		}
	}
}
