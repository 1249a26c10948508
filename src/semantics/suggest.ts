/** "Did you mean" suggestions by edit distance. */

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > 8 || a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  // Three rows of the dynamic-programming table: the swap looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      current[j] = v;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

/**
 * Candidates compared per suggestion (those within reach by length), and names scanned at all.
 * Specs have a few hundred names; a generated file with a hundred thousand must not make every
 * unknown name cost a full scan.
 */
export const MAX_SUGGESTION_CANDIDATES = 300;
export const MAX_SUGGESTION_SCAN = 10_000;

/** The closest candidate within a distance that scales with the word's length, if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  let looked = 0;
  let scanned = 0;
  for (const candidate of candidates) {
    if (++scanned > MAX_SUGGESTION_SCAN) break;
    // A candidate whose length differs by more than the limit cannot be within it.
    if (candidate === word || Math.abs(candidate.length - word.length) > limit) continue;
    if (++looked > MAX_SUGGESTION_CANDIDATES) break;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closest(word, candidates);
  return match === undefined ? undefined : `did you mean \`${match}\`?`;
}

/** Names for a hint ("it defines: a, b, c"), at most `max` of them with a count of the rest. */
export function listNames(names: Iterable<string>, max = 20): string {
  const all = [...names];
  return all.length > max ? `${all.slice(0, max).join(", ")} and ${all.length - max} more` : all.join(", ");
}

/**
 * Names other frameworks give operators vnet has under another name, or ideas a block of the
 * spec library builds: an unknown operator that is one of them gets this hint before any
 * edit-distance guess (`multiply` is far from `mul` by letters, near it in meaning).
 */
const OPERATOR_IDEAS: Readonly<Record<string, string>> = {
  multiply: "`mul`: elementwise product, broadcasting a gate [N, C] or [N, 1, 1, 1, C] over a clip (`[x, gate] -> mul`)",
  mult: "`mul`: elementwise product (`[x, gate] -> mul`)",
  prod: "`mul`: elementwise product (`[x, gate] -> mul`)",
  concatenate: "`concat`: joins tensors along channels (`[a, b] -> concat`)",
  cat: "`concat`: joins tensors along channels (`[a, b] -> concat`)",
  sum: "`add`: elementwise sum (`[y, shortcut] -> add`)",
  plus: "`add`: elementwise sum (`[y, shortcut] -> add`)",
  linear: "`dense(units)`: a fully connected layer",
  fc: "`dense(units)`: a fully connected layer",
  batchnorm: "`bn`: batch normalisation over the channels, for images and clips alike",
  batch_norm: "`bn`: batch normalisation over the channels, for images and clips alike",
  conv: "`conv2d`, `conv3d` or `conv1d`, by the input's rank",
  shift: '`temporal_shift(fold = 8, mode = "residual")`: TSM\'s shift of channels across frames',
  tsm: '`temporal_shift(fold = 8, mode = "residual")`: TSM\'s shift of channels across frames',
  squeeze_excitation: 'a block of the spec library: `import { squeeze_excitation } from "./lib/squeeze_excitation.vnet"` (a path relative to your spec)',
  squeeze_excite: "the `squeeze_excitation(inner)` block of specs/lib/squeeze_excitation.vnet",
  se: "the `squeeze_excitation(inner)` block of specs/lib/squeeze_excitation.vnet",
  hardswish: "`hard_swish`",
  hardsigmoid: "`hard_sigmoid`",
  sigmoid_gate: "`sigmoid`, then `[x, gate] -> mul`",
  avg_pool: "`avgpool2d` or `avgpool3d` (a window), or `global_avg_pool`",
  max_pool: "`maxpool2d` or `maxpool3d` (a window), or `global_max_pool`",
  consensus: '`temporal_pool(mode = "mean")`: TSN\'s average consensus over the segments',
};

/** The hint for an unknown operator that is a known idea under another name, if it is one. */
export function operatorIdeaHint(name: string): string | undefined {
  const idea = Object.hasOwn(OPERATOR_IDEAS, name.toLowerCase()) ? OPERATOR_IDEAS[name.toLowerCase()] : undefined;
  return idea === undefined ? undefined : `vnet calls this ${idea}`;
}
