// The SDK's legacy HTTP client (modules/network/http), only what the OTA fetcher uses.
declare module "http" {
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
		/** message: 1 status (value: code), 2 header (value: name, etc: value), 3 headers done, 4 body fragment (value: bytes), 5 complete, < 0 error */
		callback: (message: number, value?: unknown, etc?: unknown) => void;
		/** Bytes waiting to be read (of the body, or after it). */
		read(): number;
		read(type: typeof ArrayBuffer, limit?: number): ArrayBuffer | undefined;
		close(): void;
		static readonly status: 1;
		static readonly header: 2;
		static readonly headersComplete: 3;
		static readonly responseFragment: 4;
		static readonly responseComplete: 5;
		static readonly error: -2;
	}
}
