/**
 * Go durations (time.ParseDuration), as policies write them: 30s, 5m, 1h30m, 250ms, 1.5h.
 * The result is in milliseconds, the unit timers and AbortSignal.timeout take.
 */

/**
 * What a policy may write (the CRD's pattern, from this same module): a subset of what
 * parseDuration reads, so every duration the API server admits is one every timer accepts.
 */
export const durationPattern = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

const millisecondsPer: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const term = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds in a Go duration such as `1h30m`; throws on anything Go would refuse. */
export function parseDuration(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.startsWith('-') || text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  if (body === '') throw new Error(`invalid duration "${text}": empty`);
  let total = 0;
  term.lastIndex = 0;
  while (term.lastIndex < body.length) {
    const start = term.lastIndex;
    const match = term.exec(body);
    if (match === null) {
      const rest = body.slice(start);
      throw new Error(
        /^[\d.]+$/.test(rest)
          ? `invalid duration "${text}": missing unit after ${rest} (use ns, us, ms, s, m or h)`
          : `invalid duration "${text}": cannot read "${rest}" (expected a number and a unit, as in 30s or 1h30m)`,
      );
    }
    const [, amount = '', unit = ''] = match;
    total += Number(amount) * (millisecondsPer[unit] ?? Number.NaN);
  }
  return sign * total;
}
