/*
 * board/platform/rollback-esp32: ESP-IDF app rollback for the OTA boot slots. Needs
 * CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (board/ota-target/sdkconfig).
 * Generated and type-checked here, never compiled (no ESP-IDF on this machine).
 */

#include "xsmc.h"
#include "xsHost.h"
#include "esp_ota_ops.h"

/* runningState(): the running partition's OTA state as a word. */
void xs_board_rollback_state(xsMachine *the)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	esp_ota_img_states_t state;
	const char *word = "undefined";	/* factory partition, or no otadata entry */
	if (running && (ESP_OK == esp_ota_get_state_partition(running, &state))) {
		switch (state) {
			case ESP_OTA_IMG_NEW: word = "new"; break;
			case ESP_OTA_IMG_PENDING_VERIFY: word = "pending-verify"; break;
			case ESP_OTA_IMG_VALID: word = "valid"; break;
			case ESP_OTA_IMG_INVALID: word = "invalid"; break;
			case ESP_OTA_IMG_ABORTED: word = "aborted"; break;
			default: break;
		}
	}
	xsmcSetString(xsResult, (char *)word);
}

/* markValid(): the running image keeps booting; the bootloader stops the rollback. */
void xs_board_rollback_mark_valid(xsMachine *the)
{
	esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
	if (ESP_OK != err)
		xsUnknownError("esp_ota_mark_app_valid_cancel_rollback: %s", esp_err_to_name(err));
}

/* markInvalidAndReboot(): the previous image boots; returns only if that is impossible. */
void xs_board_rollback_mark_invalid(xsMachine *the)
{
	esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
	xsUnknownError("esp_ota_mark_app_invalid_rollback_and_reboot: %s", esp_err_to_name(err));
}
