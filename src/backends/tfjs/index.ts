/**
 * The tfjs backend's public surface. Importing it registers vnet's custom layers, so saved vnet
 * models load with `tf.loadLayersModel`.
 */
export { checkTfjsSupport, emitTfjs, TFJS_UNSUPPORTED, type TfjsEmitOptions, type TfjsEmitResult } from "./emit.js";
export { VNET_LAYERS } from "./registry.js";
