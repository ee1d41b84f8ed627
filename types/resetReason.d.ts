// The SDK's esp32 resetReason module (build/devices/esp32/modules/resetReason), untyped there.
declare module "resetReason" {
	export default function getResetReason(): { reason: number; string: string };
}
