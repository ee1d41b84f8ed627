/*
 * The SDK's legacy HTTP client (modules/network/http/http.js), only what the OTA
 * fetcher uses. Declared here rather than taken from the SDK's typings/http.d.ts,
 * which types responseFragment as 3 and error as -1; http.js sets 4 and -2. These
 * values are http.js's; manifest_typings.json makes mcconfig compile against this file.
 */
declare module "http" {
	/** The client's callback messages (the statics below name them). */
	export type RequestMessage = 0 | 1 | 2 | 3 | 4 | 5 | -2;

	export class Request {
		constructor(options: {
			host: string;
			port?: number;
			path?: string;
			method?: string;
			headers?: string[];
			Socket?: unknown;
			secure?: Record<string, unknown>;
		});
		/** status: value is the code; header: value the name, etc the value; responseFragment: value the bytes available. */
		callback: (message: RequestMessage, value?: unknown, etc?: unknown) => void;
		read(type: typeof ArrayBuffer, limit?: number): ArrayBuffer | undefined;
		close(): void;
		static readonly requestFragment: 0;
		static readonly status: 1;
		static readonly header: 2;
		static readonly headersComplete: 3;
		static readonly responseFragment: 4;
		static readonly responseComplete: 5;
		static readonly error: -2;
	}
}
