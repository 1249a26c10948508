/**
 * The ONNX backend's public surface: export a lowered IR graph with weights from a `WeightSource`
 * to an ONNX file that ONNX Runtime runs, with the same outputs as the tfjs model of the graph; and
 * the training step (forward, loss, gradients, optimizer update) as one ONNX model.
 */
export { decodeModel, readMetadataProps } from "./builder.js";
export { checkOnnxSupport, ONNX_UNSUPPORTED } from "./emit.js";
export { exportOnnx, LOGITS, ONNX_OPSET, ONNX_OUTPUTS, PROBABILITIES, type OnnxExportOptions, type OnnxExportResult } from "./export.js";
export type { OnnxInput } from "./inputs.js";
export { INPUT_LAYOUT, programSources } from "./metadata.js";
export { OnnxError, readOnnx, type OnnxModel as OnnxFileModel } from "./read.js";
export type { WeightSource } from "./weights.js";
export { ADAM_DEFAULTS, BIAS_CORRECTION1, BIAS_CORRECTION2, LEARNING_RATE, type OptimizerSpec } from "./training/optimizer.js";
export type { DropoutMask, RoiSampling } from "./training/forward.js";
export {
  buildEvaluationGraph,
  buildTrainingStep,
  evaluationOutput,
  LABELS,
  LOSS,
  ONNX_NOT_DIFFERENTIABLE,
  OUTPUT,
  SCORES,
  targetInput,
  type EvaluationGraph,
  type TargetInput,
  type StateTensor,
  type TrainingStepGraph,
  type TrainingStepOptions,
} from "./training/step.js";
