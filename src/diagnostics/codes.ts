/**
 * Every diagnostic code vnet can emit. Codes are stable: a code is never reused for another
 * meaning. The kebab-case name is the rule's file name under `src/semantics/rules/` where the
 * check is a standalone rule, and the test name in `test/`.
 */
export interface CodeInfo {
  readonly code: string;
  readonly name: string;
  readonly severity: "error" | "warning";
  readonly summary: string;
}

const table = [
  ["VN001", "invalid-character", "error", "A character that cannot start any token."],
  ["VN002", "syntax-error", "error", "The tokens do not form a valid spec here."],
  ["VN003", "unterminated-literal", "error", "A string or block comment is not closed."],
  ["VN004", "nesting-too-deep", "error", "Brackets nest deeper, or a file or one declaration is larger, than the parser allows."],
  ["VN005", "empty-file", "warning", "The file has no imports, blocks or networks."],
  ["VN006", "too-many-diagnostics", "error", "A file has more problems than are reported; one closing note counts the rest (an error when any of them is)."],
  ["VN010", "unknown-name", "error", "A name that no binding, parameter, stream, block or import defines."],
  ["VN011", "unknown-operator", "error", "A call to something that is neither an operator nor a block."],
  ["VN012", "unknown-parameter", "error", "A named argument that the operator or block does not take."],
  ["VN013", "missing-parameter", "error", "A required argument is not given."],
  ["VN014", "wrong-type", "error", "A value of the wrong kind (number, string, list, tensor, ...)."],
  ["VN015", "out-of-range", "error", "A value outside what the parameter allows."],
  ["VN016", "duplicate-name", "error", "The same name is defined twice in one scope."],
  ["VN017", "too-many-arguments", "error", "More positional arguments than the callee takes."],
  ["VN018", "wrong-input-count", "error", "An operator or block receives the wrong number of input tensors."],
  ["VN019", "unknown-key", "error", "A key that the section or rule does not have."],
  ["VN020", "shape-mismatch", "error", "Tensors meeting at add, concat or a fusion point have incompatible shapes."],
  ["VN021", "rank-mismatch", "error", "An operator receives a tensor of the wrong rank (image vs clip vs sequence)."],
  [
    "VN022",
    "temporal-stride-divides",
    "warning",
    "A temporal stride or pool does not fit the number of frames, so its last frames are never read (the output size follows PyTorch's floor or ceil arithmetic).",
  ],
  ["VN023", "stream-time-axes", "error", "Two streams' time axes cannot be fused (e.g. SlowFast alpha vs frame rates)."],
  ["VN024", "classifier-width", "error", "The network's output width differs from its number of classes."],
  ["VN025", "empty-dimension", "error", "A kernel or stride shrinks a dimension to zero or below."],
  ["VN026", "division-by-zero", "error", "An arithmetic expression divides by zero."],
  ["VN027", "evaluation-limit", "error", "A spec expands into more layers or iterations than vnet allows."],
  [
    "VN028",
    "box-rows",
    "error",
    "A per-box tensor [K, ...] (from `roi_align` over a `boxes()` input) meets a per-clip tensor [N, ...], or boxes are read by something other than `roi_align`.",
  ],
  ["VN030", "block-recursion", "error", "Blocks call each other in a cycle."],
  ["VN031", "import-not-found", "error", "An imported file does not exist."],
  ["VN032", "import-cycle", "error", "Files import each other in a cycle."],
  ["VN033", "import-outside-root", "error", "An import resolves outside the project's directory tree."],
  ["VN034", "import-unknown-name", "error", "An imported name is not defined in the imported file."],
  ["VN040", "unused-stream", "warning", "A stream no layer reads."],
  ["VN041", "unused-block", "warning", "A block no network or block uses."],
  ["VN042", "unused-binding", "warning", "A binding nothing reads."],
  ["VN043", "unused-import", "warning", "An imported name nothing uses."],
  ["VN044", "unused-parameter", "warning", "A block parameter no expression of the block reads."],
  ["VN050", "inflation-rule-unmatched", "error", "An inflation rule's pattern matches no layer of the source network."],
  ["VN051", "inflation-rule-not-applicable", "error", "An inflation rule targets a layer that has no temporal extent to give."],
  ["VN052", "inflation-source", "error", "The network named by `inflate` is missing or is not a 2D network."],
  ["VN053", "inflation-changes-width", "error", "Inflation would change a dense layer's input width, so 2D weights cannot carry over."],
  ["VN060", "unknown-section", "error", "A section name vnet does not know."],
  [
    "VN061",
    "sampling-inconsistent",
    "error",
    "The sampling section contradicts the network's input, its task (a detector's keyframe clips take only `stride` or `fps`, and in training `scale`, `crop`, `crop_mode`, `flip`) or itself.",
  ],
  ["VN062", "network-structure", "error", "A network lacks an input or output, or a block lacks an output."],
  [
    "VN063",
    "task-outputs",
    "error",
    "The network's outputs do not fit its task (their number, shapes or activations; e.g. a localizer's start, end and confidence map).",
  ],
  ["VN064", "task-inputs", "error", "The network's inputs do not fit its task (e.g. a localizer reads one feature sequence)."],
  ["VN065", "freeze-unmatched", "error", "A `training { freeze = [...] }` pattern names no layer of the network."],
  ["VN070", "tfjs-unsupported", "error", "An operator or argument the tfjs backend cannot lower (located at the layer that needs it)."],
  ["VN080", "onnx-unsupported", "error", "An operator or argument the ONNX exporter cannot lower (located at the layer that needs it)."],
  ["VN081", "onnx-outputs", "error", "ONNX export names one class-score output (`logits`, `probabilities`); the network has several outputs."],
  [
    "VN082",
    "weights-mismatch",
    "error",
    "Weights given for a spec (to export, evaluate, predict or resume) lack a weight the spec declares, or hold it with another shape (located at the layer).",
  ],
  [
    "VN083",
    "onnx-not-differentiable",
    "error",
    "A layer the ONNX training step cannot differentiate: an ONNX operator on its gradient path has no gradient rule (located at the layer).",
  ],
  ["VN090", "data-unreadable", "warning", "A dataset folder, list file or video cannot be read (missing, no permission); it is skipped."],
  ["VN091", "video-empty", "warning", "A zero-length video file; it is skipped."],
  ["VN092", "video-corrupt", "warning", "ffmpeg cannot open a video (corrupt or truncated container, or not a video at all); it is skipped."],
  ["VN093", "video-damaged", "warning", "A video opens but its frames do not all decode (damaged or truncated data); it is skipped."],
  ["VN094", "video-unsupported", "warning", "A file that is not a video vnet reads (unknown extension, no video stream); it is skipped."],
  ["VN095", "unknown-label", "warning", "A video's label (class folder or list-file label) is not one of the dataset's classes; it is skipped."],
  ["VN096", "annotation-syntax", "warning", "A list-file line that is not `relative/path label`; it is skipped."],
  ["VN097", "dataset-empty", "error", "A dataset split has no usable videos."],
  ["VN098", "ffmpeg-missing", "error", "No ffmpeg binary is available to decode or encode videos."],
  ["VN099", "class-mismatch", "error", "The dataset's classes do not match the network's (count, or the checkpoint's class names)."],
  ["VN100", "weights-unreadable", "error", "A weights file (a tfjs checkpoint or an ONNX model) cannot be read."],
  ["VN101", "weight-missing", "error", "A weight the spec's layer needs is not in the source weights (`--partial` leaves it at its initialiser)."],
  [
    "VN102",
    "weight-shape-mismatch",
    "error",
    "A source weight's shape does not fit the spec's layer, after inflation where it applies (`--partial` leaves it at its initialiser).",
  ],
  ["VN103", "weights-other-network", "error", "No source weight fits the spec: the weights belong to another network."],
  ["VN104", "onnx-structure-mismatch", "error", "The ONNX model's weighted layers do not line up with the spec's by order, kind and shape."],
  ["VN105", "onnx-import-unsupported", "error", "An ONNX node, attribute or tensor type the importer cannot map onto vnet's layers."],
  ["VN106", "weights-unused", "warning", "Source tensors that no weight of the spec takes."],
  ["VN107", "not-inflated", "error", "`vnet inflate` needs a network made by an `inflate` statement."],
  ["VN108", "import-parity", "error", "The imported model's outputs differ from ONNX Runtime's on the source file."],
  [
    "VN109",
    "input-unreadable",
    "error",
    "A file or folder the command reads is missing or cannot be read (no permission, a directory where a file was expected, a symbolic-link loop).",
  ],
  [
    "VN110",
    "output-overwrites-input",
    "error",
    "An output path names one of the command's inputs (the spec, the weights, the dataset), lies inside one, or would replace a training run's checkpoint; nothing is written.",
  ],
  [
    "VN111",
    "output-unwritable",
    "error",
    "An output path cannot be written: no permission, a read-only file or folder, or a file where a folder is needed (or the other way around).",
  ],
  ["VN112", "write-failed", "error", "Writing an output failed (disk full, quota, I/O error); the previous file or checkpoint is kept."],
  ["VN113", "run-exists", "error", "`vnet train -o` names a folder that already holds a run; continue it with --resume or train into another folder."],
  ["VN114", "run-locked", "error", "Another `vnet train` is using the run folder."],
  ["VN115", "no-checkpoint", "error", "`--resume` or `--weights` finds no complete checkpoint."],
  ["VN116", "checkpoint-architecture", "error", "The checkpoint holds another architecture than the spec's (its weight names or shapes differ)."],
  ["VN117", "resume-conflict", "error", "Under `--resume`, a flag contradicts the settings the run was started with."],
  ["VN118", "non-finite-values", "error", "Weights or scores hold NaN or infinite values."],
  [
    "VN120",
    "annotation-file",
    "error",
    "An annotation file cannot be read or is not in a format vnet reads (ActivityNet-style JSON, THUMOS-style per-class lists).",
  ],
  [
    "VN121",
    "annotation-invalid",
    "warning",
    "A video entry or a segment of an annotation file is malformed (no duration, end before start, a segment outside the video); it is skipped.",
  ],
  ["VN122", "features-missing", "warning", "An annotated video has no features in the features folder, or they cannot be read; it is skipped."],
  [
    "VN123",
    "features-mismatch",
    "error",
    "The features' length or width differs from the localizer's input sequence, or folders of different extractors are mixed.",
  ],
  ["VN124", "features-folder", "error", "A features folder lacks its manifest (features.json, written by `vnet features`) or the manifest is damaged."],
  [
    "VN125",
    "detection-annotations",
    "error",
    "An AVA-format file (annotation or proposal CSV, excluded timestamps, label map .pbtxt) cannot be read or is malformed, or a detection dataset folder lacks one.",
  ],
] as const;

export const CODES: ReadonlyMap<string, CodeInfo> = new Map(table.map(([code, name, severity, summary]) => [code, { code, name, severity, summary }]));

export type Code = (typeof table)[number][0];

export function codeInfo(code: Code): CodeInfo {
  return CODES.get(code)!;
}
