/**
 * The `classify` task inside a worker.
 *
 * @module
 */
import { predict } from "../../models/mod.ts";
import { resolveInputs } from "./_inputs.ts";
import { type TaskContext, withModel } from "./_context.ts";
import type { ClassifyResult, ClassifyTask } from "./protocol.ts";

/**
 * Classifies a task's inputs with its model.
 *
 * @param task the model and inputs
 * @param context signal and caches
 * @returns logits, probabilities, predicted classes and known labels
 * @throws {RangeError|TypeError} for malformed inputs
 * @throws {NotFoundError|DataLossError} when the model cannot be loaded
 */
export function runClassify(
  task: ClassifyTask,
  context: TaskContext,
): Promise<ClassifyResult> {
  return withModel(context, task.model, async (model) => {
    const { x, count, labels } = await resolveInputs(
      task.inputs,
      model.spec,
      context.problems,
    );
    const prediction = await predict(model, x, count, {
      signal: context.signal,
    });
    return { ...prediction, labels };
  });
}
