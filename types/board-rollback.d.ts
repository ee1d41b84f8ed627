// board-rollback: ESP-IDF app rollback (ESP32 only; see rollback-esp32.js).
declare module "board-rollback" {
	/** The running partition's OTA state: "new", "pending-verify", "valid", "invalid", "aborted" or "undefined". */
	export function runningState(): string;
	/** Marks the running image valid (esp_ota_mark_app_valid_cancel_rollback); throws on failure. */
	export function markValid(): void;
	/** Marks it invalid and reboots into the previous image; throws if there is none. */
	export function markInvalidAndReboot(): void;
}
