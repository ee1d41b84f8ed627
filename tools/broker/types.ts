/*
 * The broker launchers' shared shapes: what a test or `npm start` asks for and gets
 * back, whichever engine (mosquitto in broker.ts, aedes in aedes.ts) serves it.
 */

import type { AuthMode } from "./kit";

export interface BrokerOptions {
	pkiDir: string;
	/** Server certificate name in pkiDir: <name>.key and <name>-chain.pem (default "server"). */
	certName?: string;
	port?: number;
	/** Where mosquitto keeps its database (default: a temp dir removed by stop()). */
	persistenceDir?: string;
	requireClientCert?: boolean;
	/** The lowest TLS version the listener accepts (default "tlsv1.2"; "tlsv1.3": a broker the device cannot use). */
	tlsVersion?: "tlsv1.2" | "tlsv1.3";
	/** Production-like authentication and ACL (mosquitto only; tools/broker/kit.ts). */
	auth?: BrokerAuth;
	/** The kit's ECDHE-first cipher list; default: OpenSSL's own order (a stock broker). */
	ecdheFirst?: boolean;
	/** "auto" (default) uses mosquitto when installed, else aedes. */
	engine?: "auto" | "mosquitto" | "aedes";
	/**
	 * Called once when a running mosquitto ends on its own (killed, crashed), not through
	 * stop() or restart(); restart() brings it back. The embedded aedes lives in this
	 * process and never ends apart from it.
	 */
	onExit?: (why: string) => void;
}

export interface BrokerAuth {
	mode: AuthMode;
	/** Topic prefix of the ACL (default "devices"). */
	prefix?: string;
	/** Home Assistant discovery prefix of the ACL (default "homeassistant"). */
	haPrefix?: string;
	/** Password mode: user name -> password (the operator's among them, if wanted). */
	passwords?: Record<string, string>;
}

export interface Broker {
	kind: "mosquitto" | "aedes";
	port: number;
	pid: number | undefined;
	logFile: string | undefined;
	/** Stops the broker, stays down `downtime` ms (default 0), starts it on the same port. */
	/** `ready`: ms to wait for the new process to serve TLS (a busy fleet needs longer than 10 s). */
	restart(downtime?: number, ready?: number): Promise<void>;
	stop(): Promise<void>;
}
