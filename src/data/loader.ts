/**
 * Loads views ahead of the consumer: a bounded prefetch window over a list of (source, plan)
 * tasks, results delivered in task order. Video files are decoded and their flow computed in
 * worker threads (load-worker.ts), so the training thread only waits when decoding is the
 * bottleneck; in-memory sources load on the calling thread (sending them would copy their
 * whole dataset buffer). Without the compiled worker script (running the TypeScript sources
 * under a test runner) or with `workers: 0`, everything loads on the calling thread, through
 * the same `loadViews`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { FlowStream } from "./flow.js";
import { DataError, type DataIssue } from "./issues.js";
import type { ClipPlan } from "./sampling.js";
import { loadViews, type ClipGeometry, type FrameSource, type LoadedViews } from "./views.js";

export interface ViewTask {
  readonly source: FrameSource;
  readonly plan: ClipPlan;
}

export interface LoaderOptions {
  readonly geometry: ClipGeometry;
  readonly flows: readonly FlowStream[];
  /** Flow cache directory (file sources only). */
  readonly cacheDir?: string;
  /** Worker threads for video files; default: CPUs - 1, at least 1, at most 4. */
  readonly workers?: number;
  /** Tasks loading ahead of the one consumed; default 16. */
  readonly prefetch?: number;
}

export type ViewResult = { readonly ok: true; readonly views: LoadedViews } | { readonly ok: false; readonly error: Error };

/** Request and reply between the loader and its workers. */
export interface WorkerRequest {
  readonly id: number;
  readonly source: FrameSource;
  readonly plan: ClipPlan;
  readonly geometry: ClipGeometry;
  readonly flows: readonly FlowStream[];
  readonly cacheDir?: string;
}
export type WorkerReply = { readonly id: number; readonly views: LoadedViews } | { readonly id: number; readonly issue?: DataIssue; readonly message: string };

const WORKER_SCRIPT = new URL("./load-worker.js", import.meta.url);

/** Default worker count: leaves one CPU to training. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

interface Slot {
  readonly worker: Worker;
  active: number;
}

export class ViewLoader {
  private readonly options: LoaderOptions;
  private slots: Slot[] | undefined;
  private readonly waiting = new Map<number, { resolve: (v: LoadedViews) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;

  /** Whether video files load in worker threads. */
  readonly threaded: boolean;

  constructor(options: LoaderOptions) {
    this.options = options;
    this.threaded = (options.workers ?? defaultWorkers()) > 0 && fs.existsSync(fileURLToPath(WORKER_SCRIPT));
  }

  /** Loads one task now (on a worker for files when threaded). */
  loadOne(task: ViewTask): Promise<LoadedViews> {
    const { geometry, flows, cacheDir } = this.options;
    if (task.source.kind === "memory" || !this.threaded) return loadViews(task.source, task.plan, geometry, flows, cacheDir);
    this.slots ??= [];
    // Workers start on first use; one that died is replaced.
    while (this.slots.length < (this.options.workers ?? defaultWorkers())) this.slots.push(this.spawn());
    const slot = this.slots.reduce((a, b) => (b.active < a.active ? b : a));
    const id = this.nextId++;
    const request: WorkerRequest = { id, source: task.source, plan: task.plan, geometry, flows, ...(cacheDir ? { cacheDir } : {}) };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      if (slot.active++ === 0) slot.worker.ref();
      slot.worker.postMessage(request);
    });
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SCRIPT);
    const slot: Slot = { worker, active: 0 };
    // An idle worker must not keep the process alive; one with work must.
    worker.unref();
    worker.on("message", (reply: WorkerReply) => {
      const pending = this.waiting.get(reply.id);
      if (!pending) return;
      this.waiting.delete(reply.id);
      if (--slot.active === 0) worker.unref();
      if ("views" in reply) pending.resolve(reply.views);
      else pending.reject(reply.issue ? new DataError(reply.issue.code, reply.issue.path, reply.issue.message) : new Error(reply.message));
    });
    const fail = (error: Error) => {
      this.slots = this.slots?.filter((s) => s !== slot);
      for (const [id, pending] of this.waiting) if (pending.slot === slot) (this.waiting.delete(id), pending.reject(error));
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`a loader worker thread exited (code ${code})`)));
    return slot;
  }

  /** Results of `tasks` in order, with at most `prefetch` tasks in flight beyond the one awaited. */
  async *load(tasks: readonly ViewTask[]): AsyncGenerator<ViewResult> {
    const ahead = Math.max(1, this.options.prefetch ?? 16);
    const started: (Promise<ViewResult> | undefined)[] = [];
    let next = 0;
    for (let i = 0; i < tasks.length; i++) {
      while (next < tasks.length && next <= i + ahead) {
        started.push(
          this.loadOne(tasks[next++]!).then(
            (views): ViewResult => ({ ok: true, views }),
            (error: Error): ViewResult => ({ ok: false, error }),
          ),
        );
      }
      const result = await started[i]!;
      started[i] = undefined;
      yield result;
    }
  }

  /**
   * Batches of up to `size` loaded tasks, in task order; a task that fails to load goes to
   * `onFailure` and its batch is that much smaller.
   */
  async *batches<T extends ViewTask>(
    tasks: readonly T[],
    size: number,
    onFailure: (task: T, error: Error) => void,
  ): AsyncGenerator<{ tasks: T[]; views: LoadedViews[] }> {
    let batch: { tasks: T[]; views: LoadedViews[] } = { tasks: [], views: [] };
    let i = 0;
    for await (const result of this.load(tasks)) {
      const task = tasks[i++]!;
      if (!result.ok) onFailure(task, result.error);
      else (batch.tasks.push(task), batch.views.push(result.views));
      if (batch.tasks.length === size || (i === tasks.length && batch.tasks.length > 0)) {
        yield batch;
        batch = { tasks: [], views: [] };
      }
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    const slots = this.slots ?? [];
    this.slots = undefined;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
