/**
 * Writes frames as a real video file through ffmpeg: H.264 (libx264, yuv420p, near-lossless
 * CRF 12) when the binary has it, else MPEG-4 part 2 at high quality, in an MP4 container with a
 * keyframe every second. The file appears atomically (written under a temporary name, renamed).
 */
import * as fs from "node:fs";
import { DataError } from "../issues.js";
import { lastError, runFfmpeg, videoEncoders } from "./ffmpeg.js";

export interface EncodeOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** The encoder arguments for the best codec the binary has. */
async function codecArgs(fps: number): Promise<string[]> {
  const gop = ["-g", String(Math.max(1, Math.round(fps)))];
  if ((await videoEncoders()).has("libx264")) return ["-c:v", "libx264", "-preset", "medium", "-crf", "12", "-pix_fmt", "yuv420p", ...gop];
  return ["-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p", ...gop];
}

/** Encodes RGB frames [n, height, width, 3] with values in [0, 1] into an MP4 file. */
export async function encodeVideo(file: string, frames: Float32Array, options: EncodeOptions): Promise<void> {
  const { width, height, fps } = options;
  if (width % 2 || height % 2) throw new Error(`yuv420p video needs even sizes, not ${width}x${height}`);
  const bytes = Buffer.alloc(frames.length);
  for (let i = 0; i < frames.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, frames[i]!)) * 255);
  const temp = `${file}.${process.pid}.tmp`;
  const run = await runFfmpeg(
    [
      "-v",
      "error",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-s",
      `${width}x${height}`,
      "-r",
      String(fps),
      "-i",
      "pipe:0",
      ...(await codecArgs(fps)),
      "-f",
      "mp4",
      "-y",
      temp,
    ],
    bytes,
  );
  if (run.code !== 0) {
    fs.rmSync(temp, { force: true });
    throw new DataError("VN092", file, `ffmpeg could not encode it: ${lastError(run.stderr)}`);
  }
  fs.renameSync(temp, file);
}
