/*
 * board/platform: how the board restarts, why it last started, its free heap. Every variant in
 * modules/board/platform/ is type-checked against this declaration
 * (test/contracts/board.ts).
 */
declare module "board/platform" {
	/** Reboots the board; undefined where there is no reboot (main.ts restarts in place). */
	export const hardRestart: (() => void) | undefined;
	/** Bytes free in the board's heap (where the XS heaps grow from); undefined in the simulators. */
	export const freeHeap: (() => number) | undefined;
	/** The last reset's reason as a lower-case word ("power-on", "panic", ...). */
	export function resetReason(): string;
}
