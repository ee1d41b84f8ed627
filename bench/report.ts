/*
 * The simulator bench's figures as rows (see table.ts), the ESP32 heap sizes derived
 * from them, and the targets read from them (never asserted).
 */

import { median, type Peaks } from "./app";
import type { OtaFigures } from "./ota";
import type { Handshakes } from "./resume";
import { Table, per } from "./table";
import { throughput } from "./ota";

type Heap = { chunk: number | null; slot: number | null };
type Pair<T> = [T, T];	// firmware, baseline

export interface Measurements {
	steadyAfter: number; publishes: number; restarts: number; downtime: number; cuts: number;
	backoff: string; baseRetry: number; backoffMax: number;
	steady: Pair<Heap & { chunk: number; slot: number }>; steadyPeaks: Pair<Peaks>;
	afterPublishes: Pair<{ chunk: number; slot: number }>; published: Pair<number>; publishPeaks: Pair<Peaks>;
	afterRestarts: Pair<Heap>; restartPeaks: Pair<Peaks>; survived: Pair<number>;
	firstPublish: Pair<number>; firstReading: Pair<number>; reconnect: Pair<number[]>;
	full: Pair<Handshakes>; resumed: Pair<Handshakes>;
	ota: OtaFigures | null;
	update: { peaks: Peaks; live: { chunk: number; slot: number }[]; reconnect: Handshakes } | null;
}

const SLOT_LIN = 32, SLOT_ESP32 = 16;	// bytes per slot
const MARGIN = 1.25;					// ESP32 creation sizes: measured peak + 25 %

/** ESP32 `creation` from the largest use seen, with an update running or not (bytes of chunks, slot counts). */
export function creationFrom(m: Measurements): { chunk: number; slots: number } | null {
	if (!m.update)
		return null;
	const whole = m.restartPeaks[0];
	return {
		chunk: Math.ceil(Math.max(m.update.peaks.chunkUsed, whole.chunkUsed) * MARGIN / 1024) * 1024,
		slots: Math.ceil(Math.max(m.update.peaks.slotUsed, whole.slotUsed) / SLOT_LIN * MARGIN / 100) * 100,
	};
}

/** Bytes of ESP32 heap an update adds to steady state (chunks + slots at 16 B). */
export function updateNeeds(m: Measurements): number | null {
	if (!m.update)
		return null;
	return Math.max(0, m.update.peaks.chunkUsed - m.steady[0].chunk) + Math.max(0, m.update.peaks.slotUsed - m.steady[0].slot) / SLOT_LIN * SLOT_ESP32;
}

export function tableOf(m: Measurements): Table {
	const t = new Table();
	const gcMethod = "median of 3 probe samples, each right after Debug.gc(), XS Chunk/Slot Heap Used (instrumentation)";
	const heapMethod = "largest heap XS allocated (instruments 'Chunk/Slot available'; mcconfig's lin defaults 32 KB chunks / 2048 slots, grown when a GC cannot free enough)";
	const usedMethod = "largest 'Chunk/Slot used' of the 1/s instruments samples (includes garbage not yet collected)";
	const { steady, steadyPeaks: sp, afterPublishes: ap, publishPeaks: pp, afterRestarts: ar, restartPeaks: rp } = m;
	t.add("steady chunk used after GC", "B", steady[0].chunk, steady[1].chunk, `${m.steadyAfter / 1000} s after launch, ${gcMethod}`);
	t.add("steady slot used after GC", "B", steady[0].slot, steady[1].slot, "same samples; lin slots are 32 B (16 B on ESP32)");
	t.add("peak chunk heap (steady)", "B", sp[0].chunkHeap, sp[1].chunkHeap, heapMethod);
	t.add("peak slot heap (steady)", "B", sp[0].slotHeap, sp[1].slotHeap, heapMethod);
	t.add("peak chunk used, sampled (steady)", "B", sp[0].chunkUsed, sp[1].chunkUsed, usedMethod);
	t.add("peak slot used, sampled (steady)", "B", sp[0].slotUsed, sp[1].slotUsed, usedMethod);
	t.add("peak stack (steady)", "B", sp[0].stack, sp[1].stack, "instruments 'Stack used' (the stack's high-water mark)");
	t.add(`chunk used after GC, ${m.publishes} publishes`, "B", ap[0].chunk, ap[1].chunk, `once each saw >= ${m.publishes} publishes at the subscriber (firmware: birth, readings every 1 s and their sync markers; baseline: readings every 500 ms); ${gcMethod}`);
	t.add(`slot used after GC, ${m.publishes} publishes`, "B", ap[0].slot, ap[1].slot, "same samples");
	t.add("chunk growth per publish", "B", per(ap[0].chunk - steady[0].chunk, m.published[0]), per(ap[1].chunk - steady[1].chunk, m.published[1]), "(after publishes - steady) / publishes counted");
	t.add(`peak chunk heap, ${m.publishes} publishes`, "B", pp[0].chunkHeap, pp[1].chunkHeap, heapMethod + ", since launch");
	t.add(`peak slot heap, ${m.publishes} publishes`, "B", pp[0].slotHeap, pp[1].slotHeap, heapMethod + ", since launch");
	t.add(`chunk used after GC, ${m.restarts} restarts`, "B", ar[0].chunk, ar[1].chunk, `${m.restarts} mosquitto restarts (SIGTERM, ${m.downtime} ms down), 4 s after the last reconnect; ${gcMethod}`);
	t.add(`slot used after GC, ${m.restarts} restarts`, "B", ar[0].slot, ar[1].slot, "same samples");
	const growth = (i: number, key: "chunk" | "slot") => ar[i][key] === null ? null : per(ar[i][key]! - ap[i][key], m.restarts);
	t.add("restarts survived", "n", m.survived[0], m.survived[1], `of ${m.restarts}; a crash ends the app's run (see "ended" in the JSON)`);
	t.add("chunk growth per restart", "B", growth(0, "chunk"), growth(1, "chunk"), `(after restarts - after publishes) / ${m.restarts}`);
	t.add("slot growth per restart", "B", growth(0, "slot"), growth(1, "slot"), `(after restarts - after publishes) / ${m.restarts}`);
	t.add(`peak chunk heap, ${m.restarts} restarts`, "B", rp[0].chunkHeap, rp[1].chunkHeap, heapMethod + ", since launch");
	t.add(`peak slot heap, ${m.restarts} restarts`, "B", rp[0].slotHeap, rp[1].slotHeap, heapMethod + ", since launch");
	t.add("peak stack, whole run", "B", rp[0].stack, rp[1].stack, "instruments 'Stack used'");
	t.add("launch to first publish", "ms", m.firstPublish[0], m.firstPublish[1], "spawn of xvfb-run/mcsim to the first message at the subscriber (firmware: retained birth; baseline: first reading, sent on connect); one launch each, one at a time");
	t.add("launch to first reading", "ms", m.firstReading[0], m.firstReading[1], "same, first telemetry reading (firmware samples every 1 s from start, baseline on connect)");
	t.add("restart to next publish, median", "ms", median(m.reconnect[0]), median(m.reconnect[1]), `broker listening again (TLS handshake answered) to the next message at the subscriber, ${m.restarts} restarts; firmware backoff ${m.backoff} full jitter, baseline fixed ${m.baseRetry} ms`);
	const worst = (list: number[]) => list.length ? Math.max(...list) : null;
	t.add("restart to next publish, max", "ms", worst(m.reconnect[0]), worst(m.reconnect[1]), "same");
	// TLS session resumption
	const { full, resumed } = m;
	t.add("handshake, full (after broker restarts)", "ms", full[0].medianMs, full[1].medianMs, `median connecting -> online (TCP + TLS 1.2 + MQTT CONNECT/CONNACK) from each app's trace, over its reconnects after the ${m.restarts} restarts (mosquitto forgot every session)`);
	t.add("handshake, resumed (socket cut, broker alive)", "ms", resumed[0].medianMs, resumed[1].medianMs, `same, over the reconnects after ${m.cuts} cuts of the app's TCP relay (no close_notify); the baseline resumes through the SDK's single-entry ssl/cache`);
	t.add("resumed / full handshake", "x", ratio(resumed[0].medianMs, full[0].medianMs), ratio(resumed[1].medianMs, full[1].medianMs), "the two rows above, per app");
	t.add("TLS part, full", "ms", full[0].tlsMs, null, "connecting -> the firmware's 'tls: full handshake' trace (modules/tls-socket), median");
	t.add("TLS part, resumed", "ms", resumed[0].tlsMs, null, "connecting -> 'tls: resumed', median");
	t.add("reconnects after a cut that resumed", "n", resumed[0].resumed, null, `of ${resumed[0].connects}, from the firmware's 'tls: resumed <broker>' trace`);
	if (m.ota) {
		const otaMethod = `${m.ota.bytes} B image from a loopback HTTPS server; firmware: ota.start, trace 'ota: 1.0.0 -> 9.9.9' to 'ota: applying' (download, SHA-256, file target, verify) with telemetry, ${m.ota.commands} commands and one broker reconnect meanwhile; baseline column: bench/rawfetch, the SDK http client alone, 'start' to 'done'; same run, one after the other`;
		t.add("OTA download+verify vs bare download", "ms", m.ota.otaMs, m.ota.rawMs, otaMethod);
		t.add("OTA throughput vs bare download", "KB/s", throughput(m.ota.bytes, m.ota.otaMs), throughput(m.ota.bytes, m.ota.rawMs), "same runs; the lin simulator reads sockets at about 40 KB/s, so only the ratio carries over to a board");
	}
	if (m.ota && m.update) {
		const { peaks, live, reconnect } = m.update;
		const raw = m.ota.rawPeaks;
		const during = "during the firmware's update (download to verify, MQTT busy as above); baseline column: the bare download alone (rawfetch, no MQTT)";
		t.add("peak chunk used, sampled, update running", "B", peaks.chunkUsed, raw.chunkUsed, `${usedMethod}, ${during}`);
		t.add("peak slot used, sampled, update running", "B", peaks.slotUsed, raw.slotUsed, "same");
		t.add("peak chunk heap, update running", "B", peaks.chunkHeap, raw.chunkHeap, heapMethod);
		t.add("peak slot heap, update running", "B", peaks.slotHeap, raw.slotHeap, heapMethod);
		t.add("peak stack, update running", "B", peaks.stack, raw.stack, "instruments 'Stack used'");
		t.add("live chunk after GC, update running (max)", "B", max(live.map(s => s.chunk)), null, "largest probe sample (right after Debug.gc()) during the update");
		t.add("live slot after GC, update running (max)", "B", max(live.map(s => s.slot)), null, "same");
		t.add("broker reconnect during the update that resumed", "n", reconnect.resumed, null, `of ${reconnect.connects}: the update server's session did not evict the broker's`);
		const creation = creationFrom(m)!;
		t.add("ESP32 creation chunk.initial", "B", creation.chunk, null, `largest chunk used (update running, or the whole run before it) x ${MARGIN}, rounded up to 1 KB (lin bytes: an upper bound for ESP32)`);
		t.add("ESP32 creation heap.initial", "slots", creation.slots, null, `largest slot used (same) / 32 B x ${MARGIN}, rounded up to 100 slots`);
		t.add("ESP32 heap an update adds", "B", updateNeeds(m), null, "(peak chunk used - steady chunk) + (peak slots used - steady slots) x 16 B, with an update running; the ota.start headroom threshold is set from this");
	}
	return t;
}

export interface Target { target: string; met: boolean; detail: string }

export function judge(t: Table, m: Measurements): Target[] {
	const chunk = t.row("steady chunk used after GC"), slot = t.row("steady slot used after GC");
	const growth = [t.row("chunk growth per publish"), t.row("chunk growth per restart"), t.row("slot growth per restart")];
	const survived = t.row("restarts survived");
	const first = t.row("launch to first publish");
	const worst = t.row("restart to next publish, max");
	const handshake = m.full[0].medianMs;
	const bound = m.backoffMax + (handshake ?? 0);
	const resumeRatio = t.row("resumed / full handshake").firmware;
	return [
		{ target: "steady heap <= 2x baseline", met: (chunk.ratio ?? 99) <= 2 && (slot.ratio ?? 99) <= 2, detail: `chunk ${chunk.ratio}x, slot ${slot.ratio}x` },
		// "No growth": within one 1 KB chunk step / 64 slots over the whole run.
		{ target: "no growth across publishes and restarts", met: survived.firmware === m.restarts && (growth[0].firmware ?? 0) * 1000 <= 1024 && (growth[1].firmware ?? 0) * m.restarts <= 1024 && (growth[2].firmware ?? 0) * m.restarts <= 64 * 32, detail: `firmware ${growth[0].firmware} B/publish, ${growth[1].firmware} B chunk and ${growth[2].firmware} B slot per restart (no growth = under one 1 KB chunk step / 64 slots in total); survived ${survived.firmware}/${m.restarts} restarts` },
		{ target: "first publish <= 1.1x baseline", met: (first.ratio ?? 99) <= 1.1, detail: `${first.firmware} ms vs ${first.baseline} ms (${first.ratio}x)` },
		{ target: "reconnect within backoff bound + one handshake", met: survived.firmware === m.restarts && (worst.firmware ?? Infinity) <= bound, detail: `${survived.firmware}/${m.restarts} restarts survived; worst ${worst.firmware} ms vs ${m.backoffMax} ms + ${handshake} ms full handshake = ${bound} ms` },
		{ target: "resumed handshake <= 0.3x full", met: resumeRatio !== null && resumeRatio <= 0.3 && m.resumed[0].resumed === m.resumed[0].connects, detail: `${m.resumed[0].medianMs} ms vs ${handshake} ms (${resumeRatio}x; TLS part ${m.resumed[0].tlsMs} vs ${m.full[0].tlsMs} ms), ${m.resumed[0].resumed}/${m.resumed[0].connects} reconnects resumed` },
	];
}

function ratio(a: number | null, b: number | null): number | null {
	return a !== null && b ? Math.round(a / b * 100) / 100 : null;
}

function max(values: number[]): number | null {
	return values.length ? Math.max(...values) : null;
}
