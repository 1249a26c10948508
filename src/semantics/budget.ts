/**
 * How much work checking one network may do. A spec is data, but data can describe a lot: a loop
 * of a billion iterations, blocks fanning out ten-fold per level. Past a limit the checker stops
 * with a located VN027 instead of running out of time or memory.
 */
export const LIMITS = { layers: 100_000, iterations: 10_000, callDepth: 64 };
