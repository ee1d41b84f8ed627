/*
 * `npm run ota`'s arguments: the usage, the exit codes, and the checks that refuse a
 * wrong argument before anything is signed or sent, each naming the argument, the rule
 * and an example.
 *
 * - checkImage: one positional that is a file (not a folder), 1..SIZE_MAX bytes.
 * - checkVersion: what the device accepts and can order above its own version
 *   (modules/app/updates/request.ts VERSION, starting with a number: one without
 *   counts as 0, below every device).
 * - checkUrl (sign): a URL the device fetches (HTTPS_URL, at most URL_MAX characters).
 * - checkModel: a board model as the device's config checks it (MODEL, MODEL_MAX);
 *   required by sign, optional for an update (the device's birth names its model).
 * - parse(): parseArgs's own message (it names an unknown option) and the usage.
 */

import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { HTTPS_URL, SIZE_MAX, URL_MAX, VERSION } from "../modules/app/updates/request";
import { MODEL, MODEL_MAX } from "../modules/app/config/config";

export enum Exit { Ok = 0, Usage = 1, Refused = 2, Failed = 3, Timeout = 4 }

export const USAGE = `usage: npm run ota -- <image> --device <id> --version <v> [options]
       npm run ota -- sign <image> --model <m> --version <v> --url <https url> [--key <signing key>] [--force]
  --model <m>         the board model the image is built for (mcconfig's -p: lin, sim/moddable_two,
                      esp32/esp32_thing, node); default the model in the device's retained birth
  --force             install even if the device runs <v> or a later version
  --key <file>        the update-signing private key, PEM (default <pki>/ota-signing.key)
  --host <name|ip>    where the device fetches the image: the image server listens on
                      this address with a certificate naming it (default localhost)
  --broker <name|ip>  the broker's host (default localhost); --port its TLS port
                      (default: the running npm start's, from .dev/broker.json)
  --prefix <prefix>   topic prefix (default devices)
  --pki <dir>         CA (ca.pem, ca.key) and server certificate (default .dev/pki)
  --timeout <s>       the longest wait for the answer and between progress messages (default 60)
  --help              this text`;

export class Stop extends Error {
	constructor(readonly code: Exit, message: string) { super(message); }
}

/** parseArgs, with its own message (it names the option) followed by the usage. */
export function parse<T>(parser: () => T): T {
	try {
		return parser();
	}
	catch (error) {
		throw new Stop(Exit.Usage, `${error instanceof Error ? error.message : error}\n${USAGE}`);
	}
}

/** The image file: one positional that is a non-empty file the device can take. */
export function checkImage(positionals: string[]): string {
	if (positionals.length !== 1)
		throw new Stop(Exit.Usage, `${positionals.length ? `one image file, got ${positionals.map(arg => JSON.stringify(arg)).join(" ")}` : "no image file given"} (e.g. npm run ota -- ./build/xs_esp32.bin --device dev-node --version 1.1.0)\n${USAGE}`);
	const image = positionals[0];
	if (!existsSync(image))
		throw new Stop(Exit.Usage, `${image}: no such file (give the image file the device is to install)`);
	const stat = statSync(image);
	if (stat.isDirectory())
		throw new Stop(Exit.Usage, `${image} is a folder: give the image file inside it (e.g. ${join(image, "xs_esp32.bin")})`);
	if (stat.size < 1 || stat.size > SIZE_MAX)
		throw new Stop(Exit.Usage, `${image}: ${stat.size} bytes; an image is 1..${SIZE_MAX} bytes`);
	return image;
}

/** --version: a version the device can order above its own (it compares dotted numbers). */
export function checkVersion(version: string | undefined): string {
	if (version === undefined)
		throw new Stop(Exit.Usage, "missing --version <v>: the version the image carries, above the one the device runs (e.g. --version 1.1.0)");
	if (!VERSION().test(version) || !/^[0-9]/.test(version))
		throw new Stop(Exit.Usage, `--version ${JSON.stringify(version)}: 1..32 of 0-9 A-Z a-z . + -, starting with a number (the device orders versions by their dotted numbers; one without a number counts as 0, below every device) (e.g. --version 1.1.0)`);
	return version;
}

/** --url (sign): a URL the device fetches. */
export function checkUrl(url: string | undefined): string {
	if (url === undefined)
		throw new Stop(Exit.Usage, "missing --url <https url>: where devices will fetch the image (e.g. --url https://fw.example.com/node-1.1.0.bin)");
	if (url.length > URL_MAX || !HTTPS_URL().test(url))
		throw new Stop(Exit.Usage, `--url ${JSON.stringify(url)}: the device fetches only https:// URLs with a host name or IPv4 address, an optional port and a printable ASCII path, at most ${URL_MAX} characters (e.g. --url https://fw.example.com/node-1.1.0.bin)`);
	return url;
}

/** --model: the board model the image is for, as the device's config spells it. */
export function checkModel(model: string | undefined): string {
	if (model === undefined)
		throw new Stop(Exit.Usage, "missing --model <m>: the board model the image is built for, as mcconfig's -p names it (e.g. --model esp32/esp32_thing)");
	if (model.length > MODEL_MAX || !MODEL().test(model))
		throw new Stop(Exit.Usage, `--model ${JSON.stringify(model)}: levels of A-Z a-z 0-9 _ . - separated by /, at most ${MODEL_MAX} characters (e.g. --model esp32/esp32_thing)`);
	return model;
}
