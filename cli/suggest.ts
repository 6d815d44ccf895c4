/**
 * "Did you mean": the known word closest to a mistyped one, as kubectl and git suggest, or
 * nothing when none is close (so a suggestion is never a guess at random).
 */

/** Levenshtein distance: insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `word`: within 2 edits (kubectl's limit), or one that `word` begins
 * (`expl` → `explain`). Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = word.length >= 2 && candidate.startsWith(word) ? 1 : editDistance(word, candidate);
    if (distance <= 2 && distance < (best?.distance ?? Infinity)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** ` Did you mean X?` with `format` applied to X, or '' when nothing is close. */
export function didYouMean(
  word: string,
  candidates: readonly string[],
  format: (candidate: string) => string,
): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` Did you mean ${format(match)}?`;
}
