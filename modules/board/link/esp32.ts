/*
 * board/link (ESP32): WiFi station plus SNTP, reported to the core as one Network.
 *
 * - Up means associated and holding an IP address; every change is reported once.
 * - Reconnects after a drop or a failed join with a doubling delay (1 s to 30 s);
 *   the core makes no broker attempt meanwhile.
 * - Sets the clock with SNTP after the first IP (and again after each reconnect
 *   while it is still unset), because TLS checks certificate dates: one query or one
 *   waiting retry at a time (clock-sync), cancelled when WiFi drops. The core waits
 *   for the clock itself, so a dead NTP server delays the broker, not the WiFi.
 */

import WiFi from "wifi";
import Net from "net";
import SNTP from "sntp";
import Time from "time";
import Timer from "timer";
import { clock, timers } from "runtime";
import { createClockSync } from "board/link/clock-sync";
import type { Network } from "app/ports";
import type { LinkOptions } from "board/link";


const RETRY_MIN = 1_000;		// ms
const RETRY_MAX = 30_000;		// ms
const SNTP_RETRY = 10_000;		// ms after SNTP gave up

export const wifiRequired = true;

export function defaultDeviceId(): string {
	const mac = String(Net.get("MAC") ?? "");
	return "esp32-" + (mac.replace(/:/g, "").slice(-6).toLowerCase() || "unknown");
}

export function rssi(): number | undefined {
	const value = Net.get("RSSI");
	return typeof value === "number" ? value : undefined;
}

export function createLink(options: LinkOptions): Network {
	const { log } = options;
	let up = false;
	let retry = RETRY_MIN;
	let retryTimer: Timer | undefined;
	let listener: (up: boolean) => void = () => {};
	const credentials = options.password ? { ssid: options.ssid, password: options.password } : { ssid: options.ssid };

	const clockSync = createClockSync({
		needed: () => up && clock.wallTime() === null,	// the runtime clock owns the threshold
		query: done => {
			const sntp = new SNTP({ host: options.sntp }, (message, value) => {
				if (message === SNTP.time && value !== undefined) {
					Time.set(value);
					log(`link: clock set from ${options.sntp}`);
					done(true);
				}
				else if (message === SNTP.error) {
					log(`link: no time from ${options.sntp}`);
					done(false);
				}
			});
			return { close: () => (sntp as unknown as { close(): void }).close() };	// sntp.js has close(); its typing omits it
		},
		timers, retryAfter: SNTP_RETRY, log,
	});

	const change = (next: boolean) => {
		if (next === up)
			return;
		up = next;
		log(`link: WiFi ${up ? `up, IP ${Net.get("IP")}` : "down"}`);
		listener(up);
	};

	const rejoin = () => {
		if (retryTimer !== undefined)
			return;
		log(`link: joining "${options.ssid}" in ${retry} ms`);
		retryTimer = Timer.set(() => {
			retryTimer = undefined;
			WiFi.connect(credentials);
		}, retry);
		retry = Math.min(RETRY_MAX, retry * 2);
	};

	new WiFi(credentials, message => {
		if (message === WiFi.gotIP) {
			retry = RETRY_MIN;
			change(true);
			clockSync.start();
		}
		else if (message === WiFi.disconnected || message === WiFi.lostIP) {
			change(false);
			clockSync.stop();
			rejoin();
		}
	});
	log(`link: joining "${options.ssid}"`);

	return {
		isUp: () => up,
		onChange(callback) {
			listener = callback;
		},
	};
}
