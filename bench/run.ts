/*
 * npm run bench: the firmware against a bare baseline app in the Linux simulator
 * (bench/simulator.ts); saves the result, named after the commit it measured, under
 * bench/results/ and regenerates bench/README.md's tables from the newest result.
 * npm run bench -- --tables: only regenerates the tables from the newest saved result.
 * npm run bench -- --fleet 2000: 2,000 cores on Node through a broker restart and a
 * minute of refusals (bench/fleet.ts).
 *
 * Numbers with their method, never assertions: the targets are read from the table.
 * See bench/README.md.
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { moddableHome } from "../tools/sdk";
import { formatBudget } from "./budget";
import { runFleet } from "./fleet";
import { commitOf, sdkVersion } from "./provenance";
import { judge, tableOf } from "./report";
import { BASE_CONFIG, CUTS, DOWNTIME, FW_CONFIG, PUBLISHES, QUICK, RESTARTS, STEADY_AFTER, runSimulatorBench } from "./simulator";
import { loadResults, renderBlock, replaceBlock, type BenchResult } from "./tables";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results");
const README = join(ROOT, "bench", "README.md");

/** Rewrites bench/README.md's generated tables from the newest saved result; returns its file name. */
function regenerateTables(): string {
	const all = loadResults(RESULTS);
	writeFileSync(README, replaceBlock(readFileSync(README, "utf8"), renderBlock(all)));
	return all.at(-1)?.file ?? "(none)";
}

async function simulatorBench(home: string): Promise<void> {
	const started = Date.now();
	const commit = commitOf(ROOT);
	if (!commit)
		console.log("bench: not a git checkout: the result will say its commit was not recorded");
	else
		console.log(`bench: measuring commit ${commit.sha.slice(0, 12)} ("${commit.subject}")${commit.dirty ? `, with uncommitted changes to ${commit.changed.join(", ")}` : ""}`);
	const run = await runSimulatorBench(ROOT, text => console.log(text));
	const table = tableOf(run.measured);
	table.print();
	const targets = judge(table, run.measured);
	const { steady } = run.measured;
	console.log("\n" + formatBudget(run.budget, [steady[0], steady[1]]).join("\n"));
	console.log("\nTargets (read from the numbers, not asserted):");
	for (const target of targets)
		console.log(`  ${target.met ? "MET    " : "NOT MET"} ${target.target}: ${target.detail}`);

	const date = new Date().toISOString();
	const sdk = sdkVersion(home);
	const result: BenchResult & Record<string, unknown> = {
		date, sdk, platform: "lin (mcsim, x86_64, -i release)", node: process.version,
		commit, load: run.load.value(), durationSeconds: Math.round((Date.now() - started) / 1000), phases: run.phases,
		config: { firmware: FW_CONFIG, baseline: BASE_CONFIG, publishes: PUBLISHES, restarts: RESTARTS, downtime: DOWNTIME, steadyAfter: STEADY_AFTER, cuts: CUTS },
		rows: table.rows, targets, budget: run.budget, raw: run.raw,
	};
	const name = `${date.slice(0, 16).replace(/:/g, "")}Z-${sdk}-${commit?.sha.slice(0, 7) ?? "nocommit"}${QUICK ? "-quick" : ""}.json`;
	const dir = QUICK ? tmpdir() : RESULTS;
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, name), JSON.stringify(result, null, "\t") + "\n");
	console.log(`\nbench: saved ${join(dir, name)}; the run took ${result.durationSeconds} s (${run.phases.map(p => `${p.phase} ${p.seconds} s`).join(", ")}); load average ${result.load!.start} at the start, ${result.load!.max} at most`);
	if (QUICK)
		console.log("bench: SMN_BENCH_QUICK=1 checks the bench itself: its result is not saved under bench/results and the tables are left alone");
	else
		console.log(`bench: bench/README.md's tables regenerated from ${regenerateTables()}`);
}

const args = process.argv.slice(2);
const fleetAt = args.indexOf("--fleet");
if (fleetAt >= 0) {
	const count = Number(args[fleetAt + 1] ?? 2000);
	await runFleet(Number.isInteger(count) && count > 0 ? count : 2000);
}
else if (args.includes("--tables"))
	console.log(`bench: bench/README.md's tables regenerated from ${regenerateTables()}`);
else {
	const { home, reason } = moddableHome();
	if (!home)
		console.log(`bench: ${reason}; nothing measured (set MODDABLE to a Moddable SDK with its Linux tools built).`);
	else
		await simulatorBench(home).catch(error => {
			console.error(`\n${error instanceof Error ? error.message : error}\nbench: no result saved.`);
			process.exit(1);
		});
}
process.exit(0);
