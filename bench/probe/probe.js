/*
 * Bench probe (bench builds only): every PERIOD ms forces a full GC, then traces the
 * XS heaps still in use, for bench/run.ts to read:
 *   bench: t=<ms since start> chunk=<bytes> slot=<bytes> stack=<bytes> gc=<count>
 */

import Timer from "timer";
import Time from "time";
import Debug from "debug";
import Instrumentation from "instrumentation";

const PERIOD = 2000;
const CHUNK = Instrumentation.map("XS Chunk Heap Used");
const SLOT = Instrumentation.map("XS Slot Heap Used");
const STACK = Instrumentation.map("XS Stack Used");
const GC = Instrumentation.map("XS Garbage Collection Count");
const started = Time.ticks;

Timer.repeat(() => {
	Debug.gc();
	trace(`bench: t=${Time.ticks - started} chunk=${Instrumentation.get(CHUNK)} slot=${Instrumentation.get(SLOT)} stack=${Instrumentation.get(STACK)} gc=${Instrumentation.get(GC)}\n`);
}, PERIOD);
