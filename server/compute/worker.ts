/**
 * The compute worker: a Deno module worker with its own TensorFlow.js
 * backend, model cache and problem cache. It runs one task at a time in the
 * order received (the pool sends one at a time) and answers with events and
 * one `done` or `failed` message per task; see `protocol.ts`.
 *
 * Start it through `pool.ts`; it is never imported.
 *
 * @module
 */
import { initBackend, type RnnModel, tensorMemory } from "../../models/mod.ts";
import { runClassify } from "./_classify.ts";
import type { TaskContext } from "./_context.ts";
import { runEvaluate } from "./_evaluate.ts";
import { runExplain } from "./_explain.ts";
import { ProblemCache } from "./_problems.ts";
import { runTrain } from "./_train.ts";
import { ModelCache } from "./model_cache.ts";
import type {
  ComputeTask,
  FromWorker,
  TaskResult,
  ToWorker,
  WorkerSettings,
} from "./protocol.ts";
import { toWireError } from "./wire_error.ts";

/** The parts of the worker global scope used here. */
interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(
    type: "message",
    listener: (event: MessageEvent<ToWorker>) => void,
  ): void;
}

const scope = globalThis as unknown as WorkerScope;

interface State {
  models: ModelCache<RnnModel>;
  problems: ProblemCache;
}

let state: Promise<State> | undefined;
/** The pool's cancel flag: the id of the task it cancelled last. */
let cancelFlag: Int32Array<ArrayBufferLike> = new Int32Array(1);
let queue: Promise<void> = Promise.resolve();
const controllers = new Map<number, AbortController>();

async function init(settings: WorkerSettings): Promise<State> {
  const info = await initBackend(settings.backend);
  const models = new ModelCache<RnnModel>({
    capacity: settings.modelCacheSize,
  });
  const problems = new ProblemCache({
    capacity: settings.problemCacheSize,
    ...(settings.dataDir === undefined ? {} : { dataDir: settings.dataDir }),
  });
  scope.postMessage({ type: "ready", backend: info.name });
  return { models, problems };
}

function dispatch(
  task: ComputeTask,
  context: TaskContext,
): Promise<TaskResult> {
  switch (task?.kind) {
    case "classify":
      return runClassify(task, context);
    case "explain":
    case "explainBatch":
      return runExplain(task, context);
    case "evaluate":
      return runEvaluate(task, context);
    case "train":
      return runTrain(task, context);
    default:
      return Promise.reject(
        new RangeError(
          `Cannot run compute task: unknown kind ${
            JSON.stringify((task as { kind?: unknown } | null)?.kind)
          }`,
        ),
      );
  }
}

/** The buffers of a result, moved instead of copied. */
function transferables(result: TaskResult): Transferable[] {
  const arrays: ArrayBufferView[] = [];
  if ("relevance" in result) arrays.push(result.relevance);
  if ("logits" in result) {
    arrays.push(result.logits, result.probabilities, result.predicted);
  }
  if ("weights" in result) arrays.push(result.weights);
  if ("reports" in result) {
    for (const report of result.reports) {
      if (report.perSample) arrays.push(...Object.values(report.perSample));
    }
  }
  const buffers = new Set<ArrayBuffer>();
  for (const a of arrays) {
    // Only whole, unshared buffers: a view must not move its neighbours.
    if (
      a.buffer instanceof ArrayBuffer && a.byteOffset === 0 &&
      a.byteLength === a.buffer.byteLength
    ) buffers.add(a.buffer);
  }
  return [...buffers];
}

function cancelled(): DOMException {
  return new DOMException("Compute task cancelled", "AbortError");
}

async function run(taskId: number, task: ComputeTask): Promise<void> {
  const controller = controllers.get(taskId)!;
  let models: readonly string[] = [];
  try {
    const { models: cache, problems } = await state!;
    models = cache.keys();
    const context: TaskContext = {
      signal: controller.signal,
      pollCancel: () => {
        if (Atomics.load(cancelFlag, 0) === (taskId | 0)) {
          controller.abort(cancelled());
        }
      },
      models: cache,
      problems,
      emit: (event, transfer = []) =>
        scope.postMessage({ type: "event", taskId, event }, transfer),
    };
    controller.signal.throwIfAborted();
    const result = await dispatch(task, context);
    scope.postMessage(
      {
        type: "done",
        taskId,
        result,
        models: cache.keys(),
        tensors: tensorMemory().numTensors,
      },
      transferables(result),
    );
  } catch (err) {
    const keys = await (state?.then((s) => s.models.keys(), () => models) ??
      models);
    scope.postMessage({
      type: "failed",
      taskId,
      error: toWireError(err),
      models: keys,
      tensors: tensorMemory().numTensors,
    });
  } finally {
    controllers.delete(taskId);
  }
}

scope.addEventListener("message", (event) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      cancelFlag = new Int32Array(message.cancelFlag);
      state = init(message.settings);
      state.catch((err) =>
        scope.postMessage({ type: "initFailed", error: toWireError(err) })
      );
      return;
    case "run":
      controllers.set(message.taskId, new AbortController());
      queue = queue.then(() => run(message.taskId, message.task));
      return;
    case "cancel":
      controllers.get(message.taskId)?.abort(cancelled());
      return;
    case "evict":
      state?.then((s) => s.models.evict(`${message.modelId}@`), () => {});
      return;
  }
});
