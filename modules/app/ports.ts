/*
 * Ports: the small interfaces through which the portable core reaches the world.
 *
 * - The core imports nothing from the Moddable SDK or from Node; each runtime
 *   (main.ts on XS, node/ on Node) builds adapters for these interfaces and passes
 *   them in.
 * - Every callback is invoked from the runtime's event loop, never re-entrantly
 *   from inside a call the core made (adapters defer where the platform would not).
 * - Payloads are strings: the core only ever sends and receives JSON text.
 */

/** An opaque handle from Timers.set / Timers.repeat. */
export type TimerHandle = unknown;

export interface Timers {
	/** Calls `callback` once after `ms` milliseconds. */
	set(callback: () => void, ms: number): TimerHandle;
	/** Calls `callback` every `ms` milliseconds until cleared. */
	repeat(callback: () => void, ms: number): TimerHandle;
	/** Cancels a timer; clearing an undefined or already-fired handle is harmless. */
	clear(handle: TimerHandle | undefined): void;
}

export interface Clock {
	/** Milliseconds since the epoch, or null while the wall clock is not set yet. */
	wallTime(): number | null;
	/** A monotonic millisecond counter for measuring durations. */
	ticks(): number;
}

/** One line of human-readable trace, without trailing newline. */
export type Log = (line: string) => void;

/** Small persistent key/value store (Preference on XS, a JSON file or memory on Node). */
export interface Storage {
	get(key: string): number | string | undefined;
	set(key: string, value: number | string): void;
}

/** The link under the broker connection (WiFi on a board, always up in a simulator). */
export interface Network {
	isUp(): boolean;
	/** Registers the single listener for link changes. */
	onChange(listener: (up: boolean) => void): void;
}

export interface Sensor {
	/** Takes one reading: metric name to value. Throws if the hardware fails. */
	read(): Record<string, number>;
}

export interface Will {
	topic: string;
	payload: string;
	retain: boolean;
}

export interface SessionOptions {
	clientId: string;
	keepalive: number;	// seconds
	will: Will;
	user?: string;
	password?: string;
}

export interface SessionEvents {
	/** CONNACK accepted: the session may publish and subscribe. */
	onReady(): void;
	/**
	 * One incoming message. `retained` is true when the packet carried the RETAIN flag
	 * (sent because of a new subscription); undefined where the client cannot tell (the
	 * SDK's mqtt client on XS). The core never executes a retained command.
	 */
	onMessage(topic: string, payload: string, retained?: boolean): void;
	/**
	 * The session ended by itself (refused, TLS failure, peer closed, keepalive lost):
	 * called at most once, never after the core called close(); `detail` says why.
	 */
	onClose(detail: string): void;
}

/** One MQTT connection attempt and, if it succeeds, its lifetime. */
export interface Session {
	/**
	 * Hands one message to the socket. Returns false, having written nothing, when the
	 * socket cannot take it now (its send buffer is full: try again on a later turn);
	 * throws when the session is broken.
	 */
	publish(topic: string, payload: string, retain: boolean): boolean;
	subscribe(topic: string): void;
	/** Ends the session; `graceful` sends DISCONNECT first (the broker then drops the will). */
	close(graceful: boolean): void;
}

/** Opens sessions to the configured broker over TLS. */
export interface Transport {
	open(options: SessionOptions, events: SessionEvents): Session;
}

/** One digital output; read() returns the level the pin actually has. */
export interface DigitalOutput {
	write(value: 0 | 1): void;
	read(): 0 | 1;
}

/** One digital input, sampled by the core (which debounces). */
export interface DigitalInput {
	read(): 0 | 1;
}

/** Opens pins by configured name and GPIO number; throws if the pin cannot be had. */
export interface Pins {
	output(name: string, pin: number): DigitalOutput;
	input(name: string, pin: number): DigitalInput;
}

/** What only the platform knows about itself. */
export interface System {
	/** Free heap in bytes where the platform can tell. */
	freeHeap(): number | undefined;
	/** WiFi signal strength in dBm where there is WiFi. */
	rssi(): number | undefined;
	/** Reboots (a board) or restarts the app (simulator, Node); `reason` survives it. */
	restart(reason: string): void;
}

/** Receives one HTTPS download, in order; exactly one of onDone/onError ends it. */
export interface DownloadEvents {
	/** Status line and headers arrived; `length` is Content-Length when sent. */
	onResponse(status: number, length: number | undefined): void;
	onData(chunk: ArrayBuffer): void;
	onDone(): void;
	/** TLS refusal, connection cut, DNS failure...: `detail` says which in words. */
	onError(detail: string): void;
}

export interface Download {
	/** Stops the transfer; no event follows. */
	cancel(): void;
}

/** Streams https: URLs, trusting the same bundled CA and checking the server name. */
export interface Fetcher {
	get(url: string, events: DownloadEvents): Download;
}

/** Incremental SHA-256. */
export interface Hash {
	update(chunk: ArrayBuffer): void;
	/** Lower-case hex of the digest; the hash is finished after this. */
	hex(): string;
}

/**
 * Where a downloaded image goes: the inactive OTA partition on a board, a file or
 * memory in the simulators and on Node. Nothing written becomes bootable before
 * complete(); cancel() leaves the running image as the one that boots.
 */
export interface UpdateTarget {
	/** Largest image the target can take, in bytes. */
	readonly capacity: number;
	/** Starts an update of `size` bytes; throws if one cannot be started. */
	begin(size: number): void;
	write(chunk: ArrayBuffer): void;
	/** Makes the written image the one that boots next. */
	complete(): void;
	cancel(): void;
}
