/*
 * Replaces the SDK's esp32 setup/network, which would join WiFi and wait for SNTP
 * before main runs (and wait forever without WiFi). The link adapter does both
 * itself, after the config has been validated, and keeps doing them on every drop.
 */
export default function (done) {
	done();
}
