/*
 * board/setup-access (ESP32): setup mode on a board. Generated and type-checked here,
 * never compiled (no ESP-IDF on the development machine).
 *
 * - Blobs are Preference values in the "setup" domain (NVS: names within 15 bytes,
 *   strings up to 4,000 bytes; one set() is atomic).
 * - Random bytes: the SDK's rng, seeded from c_rand(), which on ESP32 is esp_random(),
 *   the hardware generator.
 * - The setup button is the configured input named by `setupButton` (pull-up: pressed
 *   reads 0). Held at boot for HOLD_SETUP ms it opens setup mode; held HOLD_RESET ms it
 *   is a factory reset. The wait blocks the boot (nothing else runs yet).
 * - The access point: WPA2 with the setup code as its password, named
 *   `setup-<deviceId>`; a captive DNS server (the SDK's dns/server) answers every
 *   A query with the access point's own address, so a phone's captive-portal check
 *   opens the setup page.
 */

import Preference from "preference";
import Digital from "pins/digital";
import Time from "time";
import Timer from "timer";
import WiFi from "wifi";
import Net from "net";
import DNSServer from "dns/server";
import RNG from "rng";
import type { Log } from "app/ports";
import type { BlobStorage } from "app/setup/settings-store";
import type { AccessOptions, LocalRequestOptions } from "board/setup-access";

const DOMAIN = "setup";
const HOLD_SETUP = 3_000;	// ms
const HOLD_RESET = 10_000;	// ms
const AP_ADDRESS = "192.168.4.1";	// ESP-IDF's default for its access point

export function randomBytes(count: number): Uint8Array {
	return new Uint8Array(RNG.get(count));
}

export function createBlobs(log: Log): BlobStorage {
	return {
		read(name) {
			const value = Preference.get(DOMAIN, name);
			return typeof value === "string" ? value : undefined;
		},
		write(name, text) {
			Preference.set(DOMAIN, name, text);
		},
		remove(name) {
			try {
				Preference.delete(DOMAIN, name);
			}
			catch (error) {
				log(`setup: cannot remove ${name}: ${error}`);
			}
		},
	};
}

export function localRequest(options: LocalRequestOptions): "none" | "setup" | "reset" {
	if (!options.button)
		return "none";
	const button = new Digital({ pin: options.inputs[options.button], mode: Digital.InputPullUp });
	const started = Time.ticks;
	while (button.read() === 0 && Time.ticks - started < HOLD_RESET)
		Timer.delay(50);
	const held = Time.ticks - started;
	(button as unknown as { close(): void }).close();
	if (held >= HOLD_RESET) {
		options.log(`setup: ${options.button} held ${HOLD_RESET} ms at boot: factory reset`);
		return "reset";
	}
	if (held >= HOLD_SETUP) {
		options.log(`setup: ${options.button} held at boot: opening setup mode`);
		return "setup";
	}
	return "none";
}

export function openAccess(options: AccessOptions): { close(): void } {
	const ssid = `setup-${options.deviceId}`.slice(0, 32);
	WiFi.accessPoint({ ssid, password: options.code });
	const address = ((Net as unknown as { get(what: string, which: string): string | undefined }).get("IP", "ap")) ?? AP_ADDRESS;
	const dns = new DNSServer(() => address);
	options.log(`setup: access point "${ssid}" (WPA2, the setup code is its password) at ${address}`);
	return {
		close() {
			dns.close();
			WiFi.disconnect();
		},
	};
}
