import assert from "node:assert/strict";
import { ProgressTracker } from "./_progress.ts";

const STEP = {
  stepsPerEpoch: 2,
  samplesPerSecond: 10,
  etaSeconds: 3,
};

Deno.test("ProgressTracker.step() reports 1-based epochs and the running mean of the epoch", () => {
  const tracker = new ProgressTracker(3, 1, {
    ...new ProgressTracker(3, 1).current,
    heldoutAccuracy: 0.4,
  });
  assert.equal(tracker.current.epoch, 2);
  let p = tracker.step({ ...STEP, epoch: 1, step: 0, loss: 1, accuracy: 0 });
  p = tracker.step({ ...STEP, epoch: 1, step: 1, loss: 0.5, accuracy: 1 });
  assert.deepEqual(
    [p.epoch, p.step, p.loss, p.accuracy, p.completedEpochs],
    [2, 2, 0.75, 0.5, 1],
  );
  p = tracker.epochEnd(2, { loss: 0.7, heldoutLoss: 0.9 });
  assert.deepEqual(
    [p.completedEpochs, p.loss, p.heldoutLoss, p.heldoutAccuracy],
    [2, 0.7, 0.9, 0.4],
  );
  // A new epoch starts a new mean.
  p = tracker.step({ ...STEP, epoch: 2, step: 0, loss: 0.2, accuracy: 1 });
  assert.deepEqual([p.epoch, p.step, p.loss], [3, 1, 0.2]);
  p = tracker.finished();
  assert.deepEqual([p.epoch, p.completedEpochs, p.etaSeconds], [3, 3, 0]);
});
