/** Statistics over repeated measurements. Pure: no I/O, no clock. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median (mean of the two middle values for an even count), min and max; throws on an empty list. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  for (const v of values) {
    if (!Number.isFinite(v)) throw new Error(`summarize: not a finite number: ${v}`);
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n: sorted.length, median, min: sorted[0], max: sorted[sorted.length - 1] };
}

export interface Fit {
  /** Change of y per unit of x (least squares). */
  readonly slope: number;
  /** y at x = 0. */
  readonly intercept: number;
}

/** Ordinary least-squares line through the points; needs at least two distinct x values. */
export function linearFit(points: ReadonlyArray<readonly [number, number]>): Fit {
  const n = points.length;
  const xs = new Set(points.map(([x]) => x));
  if (xs.size < 2) throw new Error("linearFit: needs at least two distinct x values");
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

/** ours / baseline; undefined when the baseline is not positive (nothing meaningful to compare). */
export function ratio(ours: number, baseline: number): number | undefined {
  return baseline > 0 ? ours / baseline : undefined;
}
