/*
 * board/link (simulators): the host computer's network, always up, clock already set.
 *
 * - The same exports as the esp32 variant so main.ts does not know which one it got.
 * - No WiFi credentials are needed; the default device id is fixed (pass deviceId to
 *   mcconfig when running several simulators against one broker).
 */

import type { Network } from "app/ports";
import type { LinkOptions } from "board/link";


export const wifiRequired = false;

export function defaultDeviceId(): string {
	return "sim-device";
}

/** Signal strength in dBm, or undefined where the platform has none. */
export function rssi(): number | undefined {
	return undefined;
}

export function createLink(options: LinkOptions): Network {
	options.log("link: host network (simulator)");
	return {
		isUp: () => true,
		onChange() {},
	};
}
