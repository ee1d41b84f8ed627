/*
 * board/ota-target (ESP32): the next OTA partition, through the SDK's `ota` module.
 *
 * - capacity is the size of the "nextota" partition, so an oversize image is refused
 *   from its Content-Length before a byte is written.
 * - complete() ends the update (ESP-IDF validates the image) and sets the boot
 *   partition; until then, and after cancel(), the running image stays the boot one.
 */

import OTA from "ota";
import Flash from "flash";
import type { Log, UpdateTarget } from "app/ports";

export function createUpdateTarget(_name: string, _log?: Log): UpdateTarget {
	const capacity = new Flash("nextota").byteLength;
	let update: OTA | undefined;
	return {
		capacity,
		begin(size: number) {
			if (size > capacity)
				throw new Error(`image of ${size} bytes exceeds the ${capacity}-byte OTA partition`);
			update?.cancel();
			update = new OTA();
		},
		write(chunk: ArrayBuffer) {
			if (!update)
				throw new Error("no update in progress");
			update.write(chunk);
		},
		complete() {
			if (!update)
				throw new Error("no update in progress");
			const finishing = update;
			update = undefined;
			finishing.complete();
		},
		cancel() {
			const cancelling = update;
			update = undefined;
			try { cancelling?.cancel(); } catch { /* nothing was begun */ }
		},
	};
}
