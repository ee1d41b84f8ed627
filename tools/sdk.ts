/*
 * sim: builds the firmware for the Moddable Linux simulator and runs it headless.
 *
 * - Uses only an SDK that is already installed ($MODDABLE with its Linux tools built);
 *   `moddableHome()` says whether one is, and why not.
 * - buildFirmware() builds an instrumented release (`mcconfig -i -m -p lin -t build`, or
 *   `-p sim/<device>` for a device simulator) from a small wrapper manifest that
 *   includes the project's manifest and bundles the given CA (and update-signing public
 *   key, when given) as its own resources, selected with `caCert` and `otaKey`: the
 *   tracked certs/ are never touched; `bundle` adds more DER files under their own
 *   names (a client certificate and key, more roots). Config values go on the mcconfig
 *   command line, as a user would (`caCert` there replaces the default "sim-<ca>.der").
 * - startSimulator() runs `mcsim` under xvfb-run with a `timeout` inside (so nothing
 *   is left behind), collects its trace lines and stops it with SIGINT.
 * - buildFirmwareAsync() reports progress through `onProgress` (BuildProgress: a line
 *   every 10 s, then the time it took), so a first build is not a silent wait.
 * - prepareSimulator() is what `npm start` calls: build (with progress), then it returns
 *   the launcher that runs the build until stopped (again after a death: start.ts's
 *   SimulatorSupervisor).
 * - simulatorStateDir(library) is where that build keeps its state when it runs
 *   (modules/board/storage/sim.ts): storage.json and the update target's files. Before
 *   a build exists, libraryPath(outDir, platform) names the library it will make.
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BuildProgress } from "./build-progress";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export function moddableHome(): { home?: string; reason?: string } {
	const home = process.env.MODDABLE;
	if (!home)
		return { reason: "MODDABLE is not set (no Moddable SDK installed)" };
	if (!existsSync(join(home, "build/bin/lin/release/mcconfig")) || !existsSync(join(home, "build/bin/lin/release/mcsim")))
		return { reason: `MODDABLE=${home} has no built Linux tools (build/bin/lin/release/mcconfig, mcsim)` };
	return { home };
}

export function sdkEnv(home: string): NodeJS.ProcessEnv {
	const bin = join(home, "build/bin/lin/release");
	// mcconfig compiles TypeScript with the tsc on PATH: the project's own comes first.
	return { ...process.env, MODDABLE: home, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}:${bin}` };
}

export interface BuildOptions {
	outDir: string;
	caDer: string;		// path of the root CA the firmware is to trust
	/** Paths of more DER files to bundle, as resources named by their file names. */
	bundle?: string[];
	otaKeyDer?: string;	// path of the update-signing public key (SubjectPublicKeyInfo DER) to bundle
	config: Record<string, string | number>;
	/** Extra manifest to include after the project's (for example a test app's). */
	manifest?: string;
	/** The app manifest to build instead of the project's (the benchmarks' baseline). */
	app?: string;
	/** "lin" (default) or "sim/<device>", a device simulator such as sim/moddable_two. */
	platform?: string;
	/** XS creation settings laid over the manifests' (a fixed-size heap, say: `incremental` 0). */
	creation?: Record<string, unknown>;
}

interface Build {
	command: string;
	args: string[];
	env: NodeJS.ProcessEnv;
	library: string;
}

/** Writes the wrapper manifest and bundled CA; returns the mcconfig call to make. */
function prepareBuild(options: BuildOptions): Build {
	const { home, reason } = moddableHome();
	if (!home)
		throw new Error(reason);
	mkdirSync(join(options.outDir, "certs"), { recursive: true });
	const caName = "sim-" + basename(options.caDer, ".der");
	copyFileSync(options.caDer, join(options.outDir, "certs", `${caName}.der`));
	const resources = [join(options.outDir, "certs", caName)];
	const defaults: Record<string, string | number> = { caCert: `${caName}.der` };
	if (options.otaKeyDer) {
		copyFileSync(options.otaKeyDer, join(options.outDir, "certs", "sim-ota-key.der"));
		resources.push(join(options.outDir, "certs", "sim-ota-key"));
		defaults.otaKey = "sim-ota-key.der";
	}
	const config = { ...defaults, ...options.config };
	const wrapper = {
		include: [options.app ?? join(ROOT, "manifest.json"), ...(options.manifest ? [options.manifest] : [])],
		resources: { "*": [...resources, ...(options.bundle ?? [])] },
		...(options.creation ? { creation: options.creation } : {}),
	};
	const manifest = join(options.outDir, "manifest.json");
	writeFileSync(manifest, JSON.stringify(wrapper, null, "\t"));
	const platform = options.platform ?? "lin";
	return {
		command: join(home, "build/bin/lin/release/mcconfig"),
		args: ["-i", "-m", "-p", platform, "-t", "build", "-o", options.outDir, manifest,
			...Object.entries(config).map(([key, value]) => `${key}=${value}`)],
		env: sdkEnv(home),
		library: libraryPath(options.outDir, platform),
	};
}

/** The simulator library (mc.so) that building into `outDir` for `platform` makes. */
export function libraryPath(outDir: string, platform = "lin"): string {
	// mcconfig puts a device simulator's build under its device's name, and names the app
	// after the directory holding the (wrapper) manifest.
	const device = platform.startsWith("sim/") ? platform.slice("sim/".length) : "mc";
	return join(outDir, "bin/lin", device, "instrument", basename(outDir), "mc.so");
}

function checkBuild(build: Build, status: number | null, output: string): string {
	if (status !== 0 || !existsSync(build.library)) {
		const tail = output.split("\n").filter(line => line && !line.startsWith("# ")).slice(-30).join("\n");
		throw new Error(`mcconfig failed (exit ${status}):\n${tail}`);
	}
	return build.library;
}

/** The directory where the simulator build `library` (mc.so) keeps its state (board/storage). */
export function simulatorStateDir(library: string): string {
	return join(dirname(library), "state");
}

/** Builds the firmware and returns the path of the simulator library (mc.so). */
export function buildFirmware(options: BuildOptions): string {
	const build = prepareBuild(options);
	const result = spawnSync(build.command, build.args, { cwd: ROOT, env: build.env, encoding: "utf8" });
	return checkBuild(build, result.status, `${result.stdout}\n${result.stderr}`);
}

/**
 * buildFirmware() without blocking the event loop (a build takes about a minute, a first
 * one about two); `onProgress` gets BuildProgress's lines while it runs.
 */
export function buildFirmwareAsync(options: BuildOptions, onProgress?: (line: string) => void): Promise<string> {
	const build = prepareBuild(options);
	const progress = new BuildProgress({ first: !existsSync(build.library) });
	if (onProgress)
		onProgress(progress.opening);
	const child = spawn(build.command, build.args, { cwd: ROOT, env: build.env, stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	const take = (chunk: Buffer) => {
		output += chunk;
		progress.feed(chunk.toString("utf8"));
	};
	child.stdout.on("data", take);
	child.stderr.on("data", take);
	const ticker = onProgress && setInterval(() => {
		const line = progress.tick();
		if (line)
			onProgress(line);
	}, 1_000);
	return new Promise((resolve, reject) => {
		child.on("error", error => {
			clearInterval(ticker);
			reject(error);
		});
		child.on("close", status => {
			clearInterval(ticker);
			try {
				resolve(checkBuild(build, status, output));
				onProgress?.(progress.done());
			}
			catch (error) { reject(error); }
		});
	});
}

export interface Simulator {
	readonly lines: string[];
	/** Resolves with the exit code once the simulator has ended. */
	readonly exited: Promise<number | null>;
	stop(): Promise<number | null>;
}

/**
 * Runs mc.so in mcsim under a virtual display for at most `seconds`. The -i build's
 * "instruments key: ..." and "instruments: n,n,..." lines are kept out of `lines` and
 * go to `onInstruments` when given.
 */
export function startSimulator(library: string, seconds: number, onLine?: (line: string) => void, onInstruments?: (line: string) => void): Simulator {
	const { home, reason } = moddableHome();
	if (!home)
		throw new Error(reason);
	const mcsim = join(home, "build/bin/lin/release/mcsim");
	// mcsim copies the library to <config dir>/tech.moddable.mcsim/mc.so and runs that copy: a
	// simulator started elsewhere on the machine would overwrite it under this one. Own config dir.
	const config = mkdtempSync(join(tmpdir(), "smn-mcsim-"));
	const child: ChildProcess = spawn("xvfb-run", ["-a", "timeout", "-s", "INT", String(seconds), "stdbuf", "-oL", mcsim, library], {
		env: { ...sdkEnv(home), XDG_CONFIG_HOME: config }, stdio: ["ignore", "pipe", "pipe"], detached: true,
	});
	child.on("close", () => rmSync(config, { recursive: true, force: true }));
	const lines: string[] = [];
	let partial = "";
	const take = (chunk: Buffer) => {
		const text = partial + chunk.toString("utf8");
		const parts = text.split("\n");
		partial = parts.pop() ?? "";
		for (const line of parts) {
			if (line.startsWith("instruments")) {
				onInstruments?.(line);	// the -i build's heap table: read by the benchmarks, noise here
				continue;
			}
			lines.push(line);
			onLine?.(line);
		}
	};
	child.stdout!.on("data", take);
	child.stderr!.on("data", take);
	const exited = new Promise<number | null>(resolve => child.on("close", code => resolve(code)));
	const kill = (signal: NodeJS.Signals) => {
		try { process.kill(-child.pid!, signal); } catch { /* already gone */ }
	};
	process.once("exit", () => kill("SIGKILL"));
	return {
		lines,
		exited,
		async stop() {
			kill("SIGINT");
			const timer = setTimeout(() => kill("SIGKILL"), 5_000);
			const code = await exited;
			clearTimeout(timer);
			return code;
		},
	};
}

/** `npm start` with MODDABLE set: build for the simulator against the dev broker, run until stopped. */
export interface SimulatorRun {
	port: number;
	caDer: string;
	otaKeyDer?: string;
	log: (line: string) => void;
	/** The device's identity (npm start --mtls/--password): more config, files to bundle. */
	config?: Record<string, string | number>;
	bundle?: string[];
}

/** Builds for npm start (with progress lines); returns the launcher of that build. */
export async function prepareSimulator(options: SimulatorRun): Promise<() => Simulator> {
	const outDir = join(ROOT, ".dev", "sim");
	options.log(`building the firmware for the Linux simulator in ${outDir} ...`);
	const library = await buildFirmwareAsync({
		outDir,
		caDer: options.caDer,
		bundle: options.bundle,
		otaKeyDer: options.otaKeyDer,
		config: { mqttHost: "localhost", mqttPort: options.port, deviceId: "dev-sim", interval: 2_000, ...options.config },
	}, options.log);
	return () => {
		options.log("starting mcsim (headless)");
		return startSimulator(library, 24 * 3600, line => options.log(`[dev-sim] ${line}`));
	};
}
