/*
 * board/platform/rollback-esp32 (ESP32): ESP-IDF app rollback (native, rollback-esp32.c).
 */
export function runningState() @ "xs_board_rollback_state";
export function markValid() @ "xs_board_rollback_mark_valid";
export function markInvalidAndReboot() @ "xs_board_rollback_mark_invalid";
