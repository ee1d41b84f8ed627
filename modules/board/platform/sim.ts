/*
 * board/platform (simulators): no reboot to be had; main.ts restarts the app in place.
 */

export const hardRestart: (() => void) | undefined = undefined;

export function resetReason(): string {
	return "power-on";
}
