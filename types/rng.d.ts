// The SDK's random bytes for TLS (modules/crypt/etc/rng.js, in tls.json), untyped there.
declare module "rng" {
	const RNG: {
		/** `count` random bytes from the platform's generator (the hardware RNG on ESP32). */
		get(count: number): ArrayBuffer;
	};
	export default RNG;
}
