/*
 * Waiting helpers for integration tests: poll a condition with a generous deadline
 * instead of asserting on timing. A timeout fails with what was awaited.
 */

export function delay(ms: number): Promise<void> {
	return new Promise(resolve => setTimeout(resolve, ms));
}

/** Polls `condition` every 20 ms until it returns a truthy value, which is returned. */
export async function waitFor<T>(what: string, condition: () => T | undefined | null | false, timeout = 15_000): Promise<T> {
	const deadline = Date.now() + timeout;
	for (;;) {
		const value = condition();
		if (value)
			return value;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		await delay(20);
	}
}
