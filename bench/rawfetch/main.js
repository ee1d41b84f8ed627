// Bench: download config.imagePath over HTTPS once, counting bytes and nothing else.
import config from "mc/config";
import { Request } from "http";
import SecureSocket from "securesocket";
import Resource from "Resource";

let received = 0;
trace("rawfetch: start\n");
const request = new Request({
	host: config.imageHost, port: Number(config.imagePort), path: config.imagePath,
	Socket: SecureSocket, secure: { protocolVersion: 0x0303, certificate: new Resource(config.caCert) },
});
request.callback = function (message, value) {
	if (4 === message)
		received += this.read(ArrayBuffer, value).byteLength;
	else if (5 === message)
		trace(`rawfetch: done ${received} bytes\n`);
	else if (message < 0)
		trace(`rawfetch: failed after ${received} bytes\n`);
};
