/**
 * vnet's public API (`import { checkFiles, lowerNetwork, emitTfjs } from "vnet"`), the stages in pipeline
 * order: parse a spec, check it (diagnostics, shapes, parameters), lower it to the IR, compile it
 * to a tfjs model or export it to ONNX, train and evaluate it on videos, run an exported model in
 * ONNX Runtime. Each name is the one function the CLI itself uses for that step. The prettier
 * plugin is `vnet/prettier`.
 */

// Diagnostics: the shape every stage reports problems in, their codes, and the CLI's rendering.
export { CODES, codeInfo, type CodeInfo } from "./diagnostics/codes.js";
export { formatDiagnostic } from "./diagnostics/codeframe.js";
export { hasErrors, sortDiagnostics, type Diagnostic, type Range, type Severity } from "./diagnostics/diagnostic.js";
export { formatVnetError, VnetError } from "./diagnostics/error.js";
export { LineIndex } from "./diagnostics/location.js";

// Parse and check.
export { parseSpec, type ParseResult } from "./syntax/parse.js";
export { checkFiles, checkProgram, type CheckResult } from "./semantics/check.js";
export { loadProgram, nodeHost, type Host, type Program } from "./semantics/program.js";
export { totals, type CheckedNetwork, type Layer } from "./semantics/network.js";
export { formatSummary, summarize, type Summary } from "./semantics/summary.js";
export { OPERATORS } from "./ops/catalogue.js";

// Lower to the IR; compile to tfjs; export to ONNX.
export { lowerNetwork, type PipelineOptions } from "./ir/pipeline.js";
export { dumpIr } from "./ir/dump.js";
export type { IrGraph, IrNode } from "./ir/graph.js";
export { emitTfjs, type TfjsEmitOptions, type TfjsEmitResult } from "./backends/tfjs/index.js";
export { exportOnnx, ONNX_OPSET, programSources, type OnnxExportOptions, type OnnxExportResult, type WeightSource } from "./backends/onnx/index.js";

// Weights: the engine-neutral store (a checkpoint's or a model's), and models built with it.
export { WeightStore } from "./weights/store.js";
export { readWeights } from "./weights/checkpoint.js";
export { modelWithWeights } from "./weights/model.js";

// Run: the tfjs backend, model files, datasets, training, evaluation, ONNX Runtime.
export { selectBackend, type BackendChoice, type BackendSelection } from "./runtime/backend.js";
export { loadModel, saveModel } from "./runtime/model-io.js";
export { writeFileAtomic } from "./runtime/files.js";
export { memorySplits, type SplitName, type VideoItem, type VideoSplits } from "./data/dataset.js";
export { openDataset, type FolderOptions } from "./data/folder.js";
export { motionDataset, type MotionOptions, type VideoDataset } from "./data/motion.js";
export { protocolOf, type SamplingProtocol } from "./semantics/protocol.js";
export { learningRateAt, trainingConfig, trainNetwork, type EpochMetrics, type TrainingConfig, type TrainOptions, type TrainResult } from "./runtime/train.js";
export { formatReport, predictVideos, scoreReport, type EvaluationReport } from "./runtime/evaluate.js";
export { loadOnnxModel, runOnnx, type HostTensor, type OnnxModel, type Scores } from "./runtime/onnx.js";
export { verifyOnnxExport, type VerifyReport } from "./runtime/onnx-verify.js";

// The command line, as a function: `main(["check", "specs"])` returns the exit code.
export { main } from "./cli/main.js";
export { vnetVersion } from "./version.js";
