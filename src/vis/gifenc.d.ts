/** Types of the parts of gifenc 1.0 (an untyped package: CommonJS for Node, an ES module for bundlers) that vnet uses. */
declare module "gifenc" {
  type Palette = number[][];
  interface Encoder {
    writeFrame(index: Uint8Array, width: number, height: number, options: { palette: Palette; delay?: number; repeat?: number }): void;
    finish(): void;
    bytes(): Uint8Array;
  }
  interface Gifenc {
    GIFEncoder(): Encoder;
    quantize(rgba: Uint8Array | Uint8ClampedArray, maxColors: number): Palette;
    applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: Palette): Uint8Array;
  }
  export const GIFEncoder: Gifenc["GIFEncoder"];
  export const quantize: Gifenc["quantize"];
  export const applyPalette: Gifenc["applyPalette"];
  const gifenc: Gifenc;
  export default gifenc;
}
