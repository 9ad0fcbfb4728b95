import assert from "node:assert/strict";
import {
  formatDuration,
  formatProgress,
  ProgressBar,
  type ProgressFields,
} from "./_progress_bar.ts";

const P: ProgressFields = {
  epoch: 2,
  epochs: 4,
  step: 40,
  stepsPerEpoch: 160,
  loss: 1.23456,
  accuracy: 0.5625,
  samplesPerSecond: 812.4,
  etaSeconds: 65,
  completedEpochs: 1,
};

Deno.test("formatDuration() writes hours, minutes and seconds", () => {
  assert.equal(formatDuration(7.4), "7s");
  assert.equal(formatDuration(125), "2m05s");
  assert.equal(formatDuration(3723), "1h02m03s");
  assert.equal(formatDuration(Number.NaN), "?");
  assert.equal(formatDuration(-1), "?");
});

Deno.test("formatProgress() shows epoch, bar over the job, step, loss, accuracy, throughput and ETA", () => {
  // (2 − 1) · 160 + 40 = 200 of 640 steps: 31%, 6 of 20 bar cells.
  assert.equal(
    formatProgress(P),
    "epoch 2/4 [######--------------]  31% step 40/160 loss 1.2346 acc 56.3% 812 samples/s ETA 1m05s",
  );
  assert.equal(
    formatProgress({ ...P, heldoutAccuracy: 0.9 }, 4),
    "epoch 2/4 [#---]  31% step 40/160 loss 1.2346 acc 56.3% 812 samples/s ETA 1m05s held-out acc 90.0%",
  );
  assert.match(
    formatProgress({ ...P, epoch: 4, step: 160 }),
    /^epoch 4\/4 \[#{20}\] 100% /,
  );
});

Deno.test("ProgressBar redraws one line on a terminal", () => {
  const out: string[] = [];
  const bar = new ProgressBar({ write: (s) => out.push(s), isTerminal: true });
  bar.update(P);
  bar.update({ ...P, step: 41 });
  bar.note("Interrupted");
  bar.update({ ...P, step: 42 });
  bar.done();
  assert.equal(out.length, 5);
  assert.ok(out[0]!.startsWith("\r\x1b[2Kepoch 2/4"));
  assert.ok(out[1]!.includes("step 41/160"));
  assert.equal(out[2], "\r\x1b[2KInterrupted\n");
  assert.ok(out[3]!.includes("step 42/160"));
  assert.equal(out[4], "\n");
});

Deno.test("ProgressBar prints throttled lines off a terminal, and every epoch change", () => {
  const out: string[] = [];
  let now = 0;
  const bar = new ProgressBar(
    { write: (s) => out.push(s), isTerminal: false },
    2000,
    () => now,
  );
  bar.update(P); // first: printed
  now = 500;
  bar.update({ ...P, step: 41 }); // throttled
  now = 2600;
  bar.update({ ...P, step: 42 }); // 2.1 s later: printed
  now = 2700;
  bar.update({ ...P, epoch: 3, step: 1 }); // new epoch: printed
  now = 2800;
  bar.update({ ...P, epoch: 3, step: 2 }); // throttled, flushed by done()
  bar.done();
  assert.deepEqual(
    out.map((s) => s.match(/epoch \d\/4|step \d+\/160/g)!.join(" ")),
    [
      "epoch 2/4 step 40/160",
      "epoch 2/4 step 42/160",
      "epoch 3/4 step 1/160",
      "epoch 3/4 step 2/160",
    ],
  );
  assert.ok(out.every((s) => s.endsWith("\n") && !s.includes("\r")));
});
