/*
 * SettingsStore: the settings an owner set up on the device (setup mode), kept across
 * boots and firmware updates, laid over the image's config at boot (setup-mode.ts).
 *
 * - Atomic: the settings are written whole into the slot not in use ("a" or "b", as
 *   chunks of at most CHUNK characters, under a Preference value's 4,000-byte limit on
 *   ESP32), then one small write of the pointer `slot:chunks:checksum` commits them. A
 *   power cut before the pointer is written leaves the previous settings whole; a torn
 *   slot is caught by its checksum and reads as no settings, with a problem.
 * - The text is JSON with every character above U+007E escaped, so a chunk's characters
 *   are its bytes.
 * - Values are what setup accepted (settings-request.ts): strings, a port number, a
 *   boolean; clientCert/clientKey are base64 DER. Nothing here judges them again: a
 *   value of the wrong type is dropped as it is read (storage may hold anything).
 * - The setup code (setup-code.ts) is kept next to the settings, in its own name.
 * Limits: the BlobStorage is trusted to make one write() atomic (NVS does; the file
 * adapters write a new file and rename it over the old one).
 */

/** Named text blobs, each at most 4,000 bytes: Preference on ESP32, files elsewhere. */
export interface BlobStorage {
	read(name: string): string | undefined;
	/** Replaces the blob whole, or throws leaving the old one. */
	write(name: string, text: string): void;
	remove(name: string): void;
}

/** The keys setup may store: the contract's POST /settings keys. */
export const SETTING_KEYS = Object.freeze(["ssid", "password", "mqttHost", "mqttPort", "deviceId", "mqttUser", "mqttPassword", "topicPrefix", "haDiscovery", "clientCert", "clientKey"] as const);
export type SettingKey = typeof SETTING_KEYS[number];
/** Never shown on the page, in an answer, on the console or on MQTT. */
export const SECRET_KEYS: readonly SettingKey[] = Object.freeze(["password", "mqttPassword", "clientKey"] as const);
export type StoredSettings = Partial<Record<SettingKey, string | number | boolean>>;

const POINTER = "current";
const CHUNK = 3_900;	// characters (bytes: the text is ASCII) per blob
const MAX_CHUNKS = 4;	// 15.6 KB: more than a POST of 16 KB can carry

/** FNV-1a over the UTF-16 units, as 8 hex digits: catches a torn or mixed slot. */
export function checksum(text: string): string {
	let hash = 0x811c9dc5;
	for (let i = 0; i < text.length; i++)
		hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
	return hash.toString(16).padStart(8, "0");
}

function asciiJson(value: unknown): string {
	return JSON.stringify(value).replace(/[\u007f-\uffff]/g, char => "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0"));
}

export class SettingsStore {
	/** Why the stored settings could not be read at the last load(), or undefined. */
	problem: string | undefined;
	constructor(private readonly blobs: BlobStorage) {}

	load(): StoredSettings {
		this.problem = undefined;
		const pointer = this.blobs.read(POINTER);
		if (pointer === undefined)
			return {};
		const match = /^([ab]):([1-9]):([0-9a-f]{8})$/.exec(pointer);
		if (!match || Number(match[2]) > MAX_CHUNKS)
			return this.#damaged("the pointer is unreadable");
		let text = "";
		for (let i = 0; i < Number(match[2]); i++)
			text += this.blobs.read(match[1] + i) ?? "";
		if (checksum(text) !== match[3])
			return this.#damaged(`slot ${match[1]} does not match its checksum`);
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);	// our own flat JSON, checksummed: never deeply nested
		}
		catch {
			return this.#damaged(`slot ${match[1]} is not JSON`);
		}
		const settings: StoredSettings = {};
		if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
			for (const key of SETTING_KEYS) {
				const value = (parsed as Record<string, unknown>)[key];
				if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
					settings[key] = value;
			}
		return settings;
	}

	/** Writes `settings` whole into the other slot, then commits it; throws if it cannot. */
	save(settings: StoredSettings): void {
		const text = asciiJson(settings);
		const chunks = Math.max(1, Math.ceil(text.length / CHUNK));
		if (chunks > MAX_CHUNKS)
			throw new Error(`settings of ${text.length} bytes exceed ${MAX_CHUNKS * CHUNK}`);
		const slot = this.blobs.read(POINTER)?.startsWith("a") ? "b" : "a";
		for (let i = 0; i < chunks; i++)
			this.blobs.write(slot + i, text.slice(i * CHUNK, (i + 1) * CHUNK));
		this.blobs.write(POINTER, `${slot}:${chunks}:${checksum(text)}`);
	}

	/** Factory reset: forgets the settings (the pointer first, so a cut leaves none). */
	clear(): void {
		this.blobs.remove(POINTER);
		for (const slot of ["a", "b"])
			for (let i = 0; i < MAX_CHUNKS; i++)
				this.blobs.remove(slot + i);
	}

	#damaged(why: string): StoredSettings {
		this.problem = `stored settings ignored: ${why}`;
		return {};
	}
}
