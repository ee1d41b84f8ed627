/*
 * board/platform (ESP32): how this board restarts, why it last started, its free heap.
 */

import restart from "board/platform/restart-esp32";
import readFreeHeap from "board/platform/free-heap-esp32";
import getResetReason from "resetReason";

/** Reboots the chip. */
export const hardRestart: (() => void) | undefined = restart;

/** Bytes free in the ESP-IDF heap (the XS heaps grow from it). */
export const freeHeap: (() => number) | undefined = readFreeHeap;

/** The chip's reset reason as a lower-case word ("power-on", "panic", "brownout"...). */
export function resetReason(): string {
	return getResetReason().string.toLowerCase().replace(/ /g, "-");
}
