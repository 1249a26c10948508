/**
 * A view-loading worker thread (started by loader.ts): decodes a plan's frames with ffmpeg,
 * cuts the crops and computes optical flow with `loadViews`, and sends the views back,
 * transferring their buffers. Requests are served concurrently, so one clip's ffmpeg process
 * runs while another's flow is computed.
 */
import { parentPort } from "node:worker_threads";
import { DataError } from "./issues.js";
import type { WorkerReply, WorkerRequest } from "./loader.js";
import { loadViews } from "./views.js";

const port = parentPort!;
port.on("message", (request: WorkerRequest) => {
  loadViews(request.source, request.plan, request.geometry, request.flows, request.cacheDir).then(
    (views) => port.postMessage({ id: request.id, views } satisfies WorkerReply, [views.clips.buffer, ...views.flows.map((f) => f.buffer)]),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: request.id, message, ...(error instanceof DataError ? { issue: error.issue } : {}) } satisfies WorkerReply);
    },
  );
});
