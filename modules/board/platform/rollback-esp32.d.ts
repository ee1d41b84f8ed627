// board/platform/rollback-esp32: ESP-IDF app rollback (ESP32 only; native, see rollback-esp32.js and .c).
/** The running partition's OTA state: "new", "pending-verify", "valid", "invalid", "aborted" or "undefined". */
export function runningState(): string;
/** Marks the running image valid (esp_ota_mark_app_valid_cancel_rollback); throws on failure. */
export function markValid(): void;
/** Marks it invalid and reboots into the previous image (esp_ota_mark_app_invalid_rollback_and_reboot); throws if it cannot. */
export function markInvalidAndReboot(): void;
