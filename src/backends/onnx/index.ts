/**
 * The ONNX backend's public surface: export a lowered IR graph with weights from a `WeightSource`
 * to an ONNX file that ONNX Runtime runs, with the same outputs as the tfjs model of the graph.
 */
export { decodeModel, readMetadataProps } from "./builder.js";
export { checkOnnxSupport, ONNX_UNSUPPORTED } from "./emit.js";
export { exportOnnx, LOGITS, ONNX_OPSET, ONNX_OUTPUTS, PROBABILITIES, type OnnxExportOptions, type OnnxExportResult } from "./export.js";
export type { OnnxInput } from "./inputs.js";
export { INPUT_LAYOUT, programSources } from "./metadata.js";
export { OnnxError, readOnnx, type OnnxModel as OnnxFileModel } from "./read.js";
export type { WeightSource } from "./weights.js";
