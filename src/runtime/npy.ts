/**
 * NumPy's .npy format (versions 1-3), for video tensors exchanged with Python tools: reading
 * little-endian float32, float64 and uint8 arrays in C order (uint8 pixels are scaled to [0, 1]),
 * and writing float32. Format: the magic "\x93NUMPY", a version, a header length, a Python dict
 * literal {'descr', 'fortran_order', 'shape'}, then the raw data.
 */
import * as fs from "node:fs";
import { writeFileAtomic } from "./files.js";
import type { HostTensor } from "./onnx.js";

const MAGIC = "\x93NUMPY";

/** Parses .npy bytes; throws an Error saying what is wrong with a malformed or unsupported file. */
export function parseNpy(bytes: Uint8Array): HostTensor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) throw new Error("not a .npy file (no \\x93NUMPY magic)");
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`malformed .npy header: ${header.trim()}`);
  if (fortran === "True") throw new Error("the array is in Fortran order; save it in C order (np.ascontiguousarray)");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(start + headerLength);
  const data = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const read = (size: number, get: (at: number) => number) => {
    if (body.length < count * size) throw new Error(`the file holds ${Math.floor(body.length / size)} values, its shape [${shape.join(", ")}] needs ${count}`);
    return Float32Array.from({ length: count }, (_, i) => get(i * size));
  };
  switch (descr) {
    case "<f4":
      return { data: read(4, (at) => data.getFloat32(at, true)), shape };
    case "<f8":
      return { data: read(8, (at) => data.getFloat64(at, true)), shape };
    case "|u1":
      return { data: read(1, (at) => data.getUint8(at) / 255), shape };
    default:
      throw new Error(`unsupported dtype ${descr} (float32, float64 or uint8 pixels)`);
  }
}

/** Reads a .npy file. */
export function readNpy(file: string): HostTensor {
  return parseNpy(fs.readFileSync(file));
}

/** Writes a float32 .npy file (version 1.0), atomically. */
export function writeNpy(file: string, tensor: HostTensor): void {
  const shape = tensor.shape.length === 1 ? `${tensor.shape[0]},` : tensor.shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape}), }`;
  // The header (with its newline) pads the data to a 64-byte boundary.
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const out = new Uint8Array(10 + header.length + tensor.data.length * 4);
  out.set(Array.from(MAGIC, (c) => c.charCodeAt(0)));
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(
    Array.from(header, (c) => c.charCodeAt(0)),
    10,
  );
  const data = new DataView(out.buffer, 10 + header.length);
  tensor.data.forEach((v, i) => data.setFloat32(i * 4, v, true));
  writeFileAtomic(file, out);
}
