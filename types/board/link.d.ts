/*
 * board/link: the device's network link. esp32: WiFi station plus SNTP; simulators:
 * the host computer's network, always up. Every variant in modules/board/link/ is
 * type-checked against this declaration (test/contracts/board.ts); main.ts is compiled
 * against it, by `npm run check` and by mcconfig (manifest_typings.json).
 */
declare module "board/link" {
	import type { Log, Network } from "app/ports";

	export interface LinkOptions {
		ssid: string;
		password: string;
		/** SNTP server host name (used where the platform sets its own clock). */
		sntp: string;
		log: Log;
	}

	/** Whether the config must name a WiFi network (ssid) for the device to start. */
	export const wifiRequired: boolean;
	/** The device id used when the config names none. */
	export function defaultDeviceId(): string;
	/** Signal strength in dBm, or undefined where the platform has none. */
	export function rssi(): number | undefined;
	/** Starts bringing the link up; reports every change through the Network port. */
	export function createLink(options: LinkOptions): Network;
}
