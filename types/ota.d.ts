// The SDK's legacy ESP32 OTA module (build/devices/esp32/modules/ota), untyped there.
declare module "ota" {
	export default class OTA {
		/** Starts an update of the next OTA partition (sequential writes). */
		constructor();
		write(data: ArrayBuffer): void;
		cancel(): void;
		/** Ends the update and makes the partition the boot partition. */
		complete(): void;
	}
}
