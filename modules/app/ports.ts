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

/**
 * What a transport hands on for a payload that is not valid UTF-8: XS's
 * String.fromArrayBuffer throws on it, and no JSON parser accepts this (E_PARSE).
 */
export const NOT_UTF8 = "\uFFFD";

/**
 * What a transport hands on, in place of the payload, for an incoming message it did not
 * read because it declared more than limits.ts MAX_RECEIVE bytes (the XS transport: the
 * SDK's client would allocate it whole first, and a board's heap cannot take 300 KB).
 * Commands and releases answer it E_TOO_LARGE; nothing else the device reads matches it.
 */
export const TOO_LARGE = "\uFFFE";

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

/** What one value of a reading is, in Home Assistant's terms where it has them. */
export interface SensorValue {
	/** The key in read()'s result. */
	name: string;
	/** Home Assistant sensor device class ("temperature", "humidity", "voltage"...). */
	deviceClass?: string;
	/** Unit as Home Assistant expects it for the device class ("°C", "%", "V"). */
	unit?: string;
	/** "measurement" for a sampled level; "total_increasing" for a counter. */
	stateClass?: "measurement" | "total" | "total_increasing";
}

export interface Sensor {
	/** Takes one reading: metric name to value. Throws if the hardware fails. */
	read(): Record<string, number>;
	/** The values read() reports; absent: the sensor describes nothing (no discovery). */
	describe?(): SensorValue[];
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
	 * One incoming message (a payload that is not UTF-8 arrives as NOT_UTF8). `retained` is true when the packet carried the RETAIN flag
	 * (sent because of a new subscription); undefined where the client cannot tell (the
	 * SDK's mqtt client on XS). The core never executes a retained command.
	 */
	onMessage(topic: string, payload: string, retained?: boolean): void;
	/**
	 * The broker answered CONNECT with a non-zero CONNACK return code (MQTT 3.1.1: 1..5,
	 * e.g. 5 not authorised): the session is over and no onClose follows.
	 */
	onRefused(code: number): void;
	/**
	 * The session ended by itself (TLS failure, peer closed, keepalive lost): called at
	 * most once, never after the core called close() or after onRefused; `detail` says why.
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
	/** Makes the written image the one that boots next, on trial (see BootSlots), as `version`. */
	complete(version: string): void;
	cancel(): void;
}

/**
 * The boot slots behind an UpdateTarget: an image made bootable by complete() boots
 * *pending* (on trial) until confirmed; reverted, the previous image boots again. The
 * ESP32's are ESP-IDF's app rollback; the simulators and Node keep them in files.
 */
export interface BootSlots {
	/** True while the running image is an update on trial: booted, not yet confirmed. */
	pending(): boolean;
	/** Keeps the running image as the one that boots from now on. */
	confirm(): void;
	/** Makes the previous image the one that boots next; a board reboots into it at once. */
	revert(): void;
}

/** ECDSA P-256 with SHA-256 (the SDK's crypt modules on XS, node:crypto on Node). */
export interface Ecdsa {
	/**
	 * True when `signature` (r || s, 32 bytes each, both already checked to be in
	 * 1..n-1) signs SHA-256(`message`) under the public point `point` (x || y, 32 bytes
	 * each, already checked to be on the curve).
	 */
	verify(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}
