/**
 * Dataset construction for the thesis's problems, as pure array code: IDX
 * parsing, pixel scaling, column-wise sequences, majority-sample
 * composites, seeded stratified folds and the {@linkcode buildProblem}
 * convenience that ties them together. No file I/O (see
 * `server/datasets/` for loading) and no tensors.
 *
 * @module
 */
export {
  checkImageSet,
  CLASS_COUNT,
  createImageSet,
  type ImageSet,
  type ImageShape,
  type MajoritySet,
  scalePixel,
} from "./image_set.ts";
export {
  encodeIdx,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxArray,
  type IdxContent,
  IdxFormatError,
  imageSetFromIdx,
  parseIdx,
} from "./idx.ts";
export { deriveSeed, Random } from "./random.ts";
export {
  columnsPerStep,
  fromSequences,
  type SequenceShape,
  toSequences,
} from "./sequences.ts";
export {
  type MajoritySequences,
  makeMajoritySequences,
  makeMajoritySet,
} from "./majority.ts";
export {
  type Fold,
  stratifiedKFold,
  type StratifiedKFoldOptions,
} from "./stratified_k_fold.ts";
export { subset } from "./subset.ts";
export {
  buildProblem,
  type Problem,
  type ProblemKind,
  type ProblemOptions,
  type ProblemPart,
  type ProblemSplit,
  type SourceSets,
} from "./build_problem.ts";
