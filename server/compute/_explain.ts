/**
 * The `explain` and `explainBatch` tasks inside a worker.
 *
 * @module
 */
import { explain, type Target } from "../../models/mod.ts";
import { knownLabels, resolveInputs } from "./_inputs.ts";
import { owned, type TaskContext, withModel } from "./_context.ts";
import type { ExplainResult, ExplainTask } from "./protocol.ts";

/**
 * Explains a task's inputs. For `explain`, every step's relevance is posted
 * as a `step` event as soon as it exists (T − 1 down to 0), its buffers
 * transferred.
 *
 * @param task the model, inputs, method, parameters and target
 * @param context signal, event sink and caches
 * @returns the relevance, summaries and the parameters and target used
 * @throws {RangeError|TypeError} for malformed inputs or parameters
 * @throws {PreconditionError} (models) for a method invalid for the architecture
 * @throws {OutOfRangeError} (models) for a target class past the last class
 */
export function runExplain(
  task: ExplainTask,
  context: TaskContext,
): Promise<ExplainResult> {
  return withModel(context, task.model, async (model) => {
    const { x, count, labels } = await resolveInputs(
      task.inputs,
      model.spec,
      context.problems,
    );
    const known = knownLabels(labels);
    const target: Target = task.target ??
      (known === undefined ? { kind: "predicted" } : { kind: "true_label" });
    const stream = task.kind === "explain";
    const explanation = await explain(
      model,
      known === undefined ? { x, count } : { x, count, labels: known },
      task.method,
      {
        target,
        signal: context.signal,
        yieldToEventLoop: context.pollCancel,
        ...(task.params === undefined ? {} : { params: task.params }),
        ...(stream
          ? {
            onStep: ({ step, relevance, sums }) => {
              const r = owned(relevance);
              const s = owned(sums);
              context.emit({ kind: "step", step, relevance: r, sums: s }, [
                r.buffer,
                s.buffer,
              ]);
            },
          }
          : {}),
      },
    );
    const { steps, rows, columns } = model.spec;
    return {
      method: explanation.method,
      params: { ...explanation.params },
      target,
      relevance: explanation.relevance,
      summaries: explanation.summaries,
      labels,
      shape: { steps, rows, columns },
    };
  });
}
