/*
 * Memory budget: what each part of the firmware keeps at steady state, from the
 * bench/budget app (it builds the parts one at a time and traces the XS heap growth
 * after a forced GC for each; see bench/budget/main.js). Printed as a table beside
 * the firmware's and the baseline's steady heaps.
 */

import type { App } from "./app";

export interface Part { part: string; chunk: number; slot: number }

const SLOT_LIN = 32;	// bytes per slot on lin (16 on ESP32)

/** Runs the budget app (built beforehand) until it traced every part. */
export async function measureBudget(app: App): Promise<Part[]> {
	app.launch(120);
	await app.waitFor("its last part (budget: done)", () => app.lines.some(line => line.text === "budget: done"), 90_000);
	app.stopping = true;
	await app.simulator.stop();
	const parts: Part[] = [];
	for (const { text } of app.lines) {
		const match = /^budget: (.+) chunk=(-?\d+) slot=(-?\d+)$/.exec(text);
		if (match)
			parts.push({ part: match[1], chunk: +match[2], slot: +match[3] });
	}
	return parts;
}

/** The budget table as the bench prints it (and as bench/README.md shows it). */
export function formatBudget(parts: Part[], steady: [{ chunk: number; slot: number }, { chunk: number; slot: number }]): string[] {
	const lines = [
		"Memory budget: what each part keeps (XS heap growth after a forced GC as the bench/budget app builds it; lin: 32 B slots, 16 B on ESP32)",
		`${"part".padEnd(56)} ${"chunk (B)".padStart(10)} ${"slots".padStart(7)}`,
	];
	const row = (name: string, chunk: number, slot: number) => lines.push(`${name.padEnd(56)} ${String(chunk).padStart(10)} ${String(Math.round(slot / SLOT_LIN)).padStart(7)}`);
	for (const { part, chunk, slot } of parts)
		row(part, chunk, slot);
	const counted = parts.slice(1).filter(p => !p.part.includes("per entry"));
	row("sum of the parts (without queued readings)", counted.reduce((a, p) => a + p.chunk, 0), counted.reduce((a, p) => a + p.slot, 0));
	row("firmware steady state (main run)", steady[0].chunk, steady[0].slot);
	row("baseline steady state (main run)", steady[1].chunk, steady[1].slot);
	return lines;
}
