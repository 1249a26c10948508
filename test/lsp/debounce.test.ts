import { describe, expect, it } from "vitest";
import { debounceFor, DEFAULT_DEBOUNCE_MS } from "../../src/lsp/server.js";

describe("the check debounce", () => {
  it("is the configured one for ordinary files", () => {
    expect(debounceFor(10_000, DEFAULT_DEBOUNCE_MS)).toBe(DEFAULT_DEBOUNCE_MS);
    expect(debounceFor(10_000, 0)).toBe(5);
  });

  it("grows with a file of megabytes, so keystrokes in it merge into one check, up to 2 s", () => {
    expect(debounceFor(3_000_000, DEFAULT_DEBOUNCE_MS)).toBe(1500);
    expect(debounceFor(50_000_000, DEFAULT_DEBOUNCE_MS)).toBe(2000);
    expect(debounceFor(3_000_000, 5000)).toBe(5000);
  });
});
