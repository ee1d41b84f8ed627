/*
 * SetupHandler: setup mode's HTTP contract, independent of any server (the XS adapter
 * and node/setup-server.ts each feed it whole requests).
 *
 * - `GET /`: the setup page (setup-page.ts), which never shows a stored secret.
 * - `POST /settings` with `Authorization: Bearer <code>` and a JSON object of settings:
 *   200 {"ok":true} once they are stored (then `restart` is set: the caller restarts
 *   the device into normal mode after the answer is sent); 400 {"ok":false,"errors":
 *   {"<key>":"<message>",...}} storing nothing; 401 for a missing or wrong code; 429
 *   while the CodeLimiter locks codes out (with Retry-After). 413 is the reader's
 *   (http-request.ts), before a request reaches this handler.
 * - Other paths 404, other methods 405; every answer is JSON except the page.
 * - Each request leaves one trace line (method, path, status), never a value.
 */

import type { ConfigContext, RawConfig } from "../config/config";
import type { Clock, Log } from "../ports";
import { CodeLimiter } from "./code-limiter";
import { overlay } from "./overlay";
import { sameCode } from "./setup-code";
import { renderPage } from "./setup-page";
import { readSettings, type IdentityCheck } from "./settings-request";
import type { SettingsStore } from "./settings-store";

export interface SetupRequest {
	method: string;
	path: string;
	/** The Authorization header as sent, if any. */
	authorization: string | undefined;
	/** The body decoded as UTF-8, undefined when it is not UTF-8. */
	body: string | undefined;
}

export interface SetupAnswer {
	status: number;
	contentType: string;
	body: string;
	/** Seconds, with 429. */
	retryAfter?: number;
	/** Set on 200 to POST /settings: restart into normal mode once the answer is out. */
	restart?: boolean;
}

export interface SetupHandlerOptions {
	code: string;
	store: SettingsStore;
	image: RawConfig;
	context: ConfigContext;
	identity: IdentityCheck;
	clock: Clock;
	log: Log;
}

const JSON_TYPE = "application/json";
const json = (status: number, value: unknown, extra: Partial<SetupAnswer> = {}): SetupAnswer =>
	({ status, contentType: JSON_TYPE, body: JSON.stringify(value), ...extra });

export class SetupHandler {
	readonly limiter = new CodeLimiter();
	readonly #o: SetupHandlerOptions;

	constructor(options: SetupHandlerOptions) {
		this.#o = options;
	}

	handle(request: SetupRequest): SetupAnswer {
		const answer = this.#answer(request);
		this.#o.log(`setup: ${request.method} ${request.path.slice(0, 40)} -> ${answer.status}`);
		return answer;
	}

	/** An answer for a request the reader refused (400 malformed, 413 too large). */
	refused(status: number, reason: string): SetupAnswer {
		this.#o.log(`setup: request refused -> ${status} (${reason})`);
		return json(status, { ok: false, error: reason });
	}

	#answer(request: SetupRequest): SetupAnswer {
		const path = request.path.split("?")[0];
		if (path === "/")
			return request.method === "GET" ? this.#page() : json(405, { ok: false, error: "GET / only" });
		if (path !== "/settings")
			return json(404, { ok: false, error: "not found: GET / or POST /settings" });
		if (request.method !== "POST")
			return json(405, { ok: false, error: "POST /settings only" });
		return this.#post(request);
	}

	#page(): SetupAnswer {
		const stored = this.#o.store.load();
		const { raw } = overlay(this.#o.image, stored);
		// The page shows only whether a certificate and key are stored, never them.
		const shown = { ...raw, clientCert: stored.clientCert ?? raw.clientCert, clientKey: stored.clientKey ?? raw.clientKey };
		return { status: 200, contentType: "text/html; charset=utf-8", body: renderPage(shown) };
	}

	#post(request: SetupRequest): SetupAnswer {
		const { clock, code, store } = this.#o;
		const now = clock.ticks();
		const wait = this.limiter.wait(now);
		if (wait > 0)
			return json(429, { ok: false, error: "too many wrong codes: wait" }, { retryAfter: Math.ceil(wait / 1000) });
		const given = /^Bearer +(\S+)$/.exec(request.authorization ?? "")?.[1] ?? "";
		if (!sameCode(given, code)) {
			this.limiter.failed(now);
			return json(401, { ok: false, error: given ? "wrong setup code" : "missing setup code (Authorization: Bearer <code>)" });
		}
		this.limiter.succeeded();
		if (request.body === undefined)
			return json(400, { ok: false, errors: { body: "is not UTF-8" } });
		const stored = store.load();
		const { settings, problems } = readSettings(request.body, { image: this.#o.image, stored, context: this.#o.context, identity: this.#o.identity });
		if (!settings)
			return json(400, { ok: false, errors: problems });
		try {
			store.save(settings);
		}
		catch (error) {
			return json(500, { ok: false, error: `cannot store the settings: ${(error as Error).message}` });
		}
		this.#o.log(`setup: settings stored (${Object.keys(settings).sort().join(", ")})`);
		return json(200, { ok: true }, { restart: true });
	}
}
