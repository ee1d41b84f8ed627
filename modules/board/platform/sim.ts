/*
 * board/platform (simulators): no reboot to be had; main.ts restarts the app in place.
 * No free-heap figure either: the host's memory says nothing about a board's.
 */

export const hardRestart: (() => void) | undefined = undefined;

export const freeHeap: (() => number) | undefined = undefined;

export function resetReason(): string {
	return "power-on";
}
