/**
 * vnet's custom tfjs layers, registered with `tf.serialization.registerClass` when this module is
 * imported. Import it before `tf.loadLayersModel` on a saved vnet model, so that every `Vnet*`
 * class name in model.json resolves.
 */
import { VnetNonLocalAttention } from "./layers/attention.js";
import { VnetBatchNorm } from "./layers/batch-norm.js";
import { VnetBoundaryMatching } from "./layers/boundary-matching.js";
import { VnetRoiAlign } from "./layers/roi-align.js";
import { VnetConvGru2d, VnetConvLstm2d } from "./layers/conv-recurrent.js";
import { VnetConv } from "./layers/conv.js";
import { VnetHardActivation, VnetMultiply, VnetSlice } from "./layers/elementwise.js";
import { VnetScoreFusion } from "./layers/fusion.js";
import { VnetLrn } from "./layers/lrn.js";
import { VnetNormalize } from "./layers/normalize.js";
import { VnetPad } from "./layers/padding.js";
import { VnetAvgPool, VnetAxisPool } from "./layers/pooling.js";
import { VnetFoldTime, VnetSelectFrames, VnetStackFrames, VnetTemporalShift, VnetUnfoldTime } from "./layers/temporal.js";

/** Every custom layer class, by its serialised class name. */
export const VNET_LAYERS = {
  VnetAvgPool,
  VnetAxisPool,
  VnetBatchNorm,
  VnetBoundaryMatching,
  VnetConv,
  VnetConvGru2d,
  VnetConvLstm2d,
  VnetFoldTime,
  VnetHardActivation,
  VnetLrn,
  VnetMultiply,
  VnetNonLocalAttention,
  VnetNormalize,
  VnetPad,
  VnetRoiAlign,
  VnetScoreFusion,
  VnetSlice,
  VnetStackFrames,
  VnetSelectFrames,
  VnetTemporalShift,
  VnetUnfoldTime,
} as const;
