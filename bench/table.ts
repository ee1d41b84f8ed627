/*
 * The bench's table: one row per figure, firmware and baseline side by side, with the
 * ratio and how the figure was taken. Printed, and saved as is in the results JSON.
 */

export interface Row { figure: string; unit: string; firmware: number | null; baseline: number | null; ratio: number | null; method: string }

export class Table {
	readonly rows: Row[] = [];

	add(figure: string, unit: string, firmware: number | null | undefined, baseline: number | null | undefined, method: string): void {
		const value = (x: number | null | undefined) => x === null || x === undefined || Number.isNaN(x) ? null : x;
		const fw = value(firmware), base = value(baseline);
		this.rows.push({ figure, unit, firmware: fw, baseline: base, ratio: fw !== null && base ? Math.round(fw / base * 100) / 100 : null, method });
	}

	row(figure: string): Row {
		const found = this.rows.find(r => r.figure === figure);
		if (!found)
			throw new Error(`bench: no row "${figure}"`);
		return found;
	}

	print(): void {
		console.log("\n" + formatRows(this.rows).join("\n"));
	}
}

/** The rows as the bench prints them (and as bench/README.md shows them). */
export function formatRows(rows: Row[]): string[] {
	const format = (value: number | null) => value === null ? "-" : String(value);
	const widths = [Math.max(...rows.map(r => r.figure.length + r.unit.length + 3)), 9, 9, 6];
	return [
		["figure".padEnd(widths[0]), "firmware".padStart(widths[1]), "baseline".padStart(widths[2]), "ratio".padStart(widths[3]), "method"].join("  "),
		...rows.map(row => [`${row.figure} (${row.unit})`.padEnd(widths[0]), format(row.firmware).padStart(widths[1]), format(row.baseline).padStart(widths[2]), format(row.ratio).padStart(widths[3]), row.method].join("  ")),
	];
}

/** delta / count to one decimal. */
export function per(delta: number, count: number): number {
	return Math.round(delta / count * 10) / 10;
}
