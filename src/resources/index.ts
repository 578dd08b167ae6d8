/**
 * The resource evaluator's public API (docs/resource-model.md): what the
 * search and codegen call. Calibration and sample-model modules are not
 * re-exported; they load tfjs and the toolchains.
 */
export {
  type EstimateBoard,
  type EstimateOptions,
  estimatePlanResources,
  estimateResources,
  type LayerEstimate,
  loadResourceTables,
  matchProvenance,
  type ResourceEstimate,
  type ResourceTables,
  type TableProvenance,
} from "./estimate-resources.js";
export { type FootprintTable, loadFootprintTable } from "./footprint-table.js";
