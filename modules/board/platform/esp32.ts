/*
 * board/platform (ESP32): how this board restarts and why it last started.
 */

import restart from "board/platform/restart-esp32";
import getResetReason from "resetReason";

/** Reboots the chip. */
export const hardRestart: (() => void) | undefined = restart;

/** The chip's reset reason as a lower-case word ("power-on", "panic", "brownout"...). */
export function resetReason(): string {
	return getResetReason().string.toLowerCase().replace(/ /g, "-");
}
