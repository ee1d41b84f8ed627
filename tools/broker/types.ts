/*
 * The broker launchers' shared shapes: what a test or `npm start` asks for and gets
 * back, whichever engine (mosquitto in broker.ts, aedes in aedes.ts) serves it.
 */

export interface BrokerOptions {
	pkiDir: string;
	/** Server certificate name in pkiDir: <name>.key and <name>-chain.pem (default "server"). */
	certName?: string;
	port?: number;
	/** Where mosquitto keeps its database (default: a temp dir removed by stop()). */
	persistenceDir?: string;
	requireClientCert?: boolean;
	/** "auto" (default) uses mosquitto when installed, else aedes. */
	engine?: "auto" | "mosquitto" | "aedes";
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
