/**
 * How much work checking one network may do. A spec is data, but data can describe a lot: a loop
 * of a billion iterations, a list doubled thirty times, blocks fanning out ten-fold per level.
 * Past a limit the checker stops with a located diagnostic instead of running out of time or
 * memory: the editor and the CLI stay responsive on any input.
 */
import type { Range } from "../diagnostics/diagnostic.js";

export const LIMITS = {
  /** Layers one network may expand to. */
  layers: 100_000,
  /** Iterations of one `for` loop. */
  iterations: 10_000,
  /** Block calls nested inside each other. */
  callDepth: 64,
  /** Items of a list computed by `+` or `*` (a list written out is as long as its text). */
  listItems: 10_000,
  /** Characters of a string computed by `+`. */
  stringLength: 100_000,
  /**
   * Units of work per network: one per expression evaluated, one per list item or string
   * character created, one per value compared. Ten million is about a second, and bounds the
   * memory evaluation can take to a few hundred megabytes.
   */
  work: 10_000_000,
};

/** Thrown past every frame of an elaboration that hit a limit, after the limit was reported. */
export class LimitReached extends Error {}

/** The work budget of one network's check. */
export class Budget {
  private spent = 0;

  constructor(
    /** Reports the exhausted budget where the work that crossed it was being done. */
    private readonly exhausted: (file: string, range: Range) => void,
    private readonly limit = LIMITS.work,
  ) {}

  /** Charges `units` of work done at `range` of `file`; past the limit, reports there and stops the check. */
  spend(units: number, file: string, range: Range): void {
    this.spent += units;
    if (this.spent > this.limit) {
      this.exhausted(file, range);
      throw new LimitReached();
    }
  }
}
