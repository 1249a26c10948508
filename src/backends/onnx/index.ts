/**
 * The ONNX backend's public surface: export a checked network with weights from a tfjs model (fresh
 * or trained) to an ONNX file that ONNX Runtime runs, with the same outputs as the tfjs model.
 */
export { decodeModel, readMetadataProps } from "./builder.js";
export { checkOnnxSupport, ONNX_UNSUPPORTED } from "./emit.js";
export { exportOnnx, LOGITS, ONNX_OPSET, ONNX_OUTPUTS, PROBABILITIES, type OnnxExportOptions, type OnnxExportResult } from "./export.js";
export type { OnnxInput } from "./inputs.js";
export { INPUT_LAYOUT, programSources } from "./metadata.js";
export { ONNX_WEIGHTS_MISMATCH, tfjsWeightSource, type WeightSource } from "./weights.js";
