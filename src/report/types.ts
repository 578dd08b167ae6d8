/**
 * The build report (`report.json`, schemas/report.schema.json), as the
 * report stage writes it. The schema is the source of truth and documents
 * every field; this mirrors it for the compiler.
 */
export interface RegionUse {
  used_bytes: number;
  budget_bytes: number;
  margin_bytes: number;
}

export interface LayerReport {
  name: string;
  kind: string;
  output_shape: number[];
  macs: number;
  sparsity: number;
  block_size?: 1 | 4 | 8 | 16;
  kernel: string;
  weight_bytes: number;
  /** Measured in the profile build (first image). */
  instructions?: number;
  /** Codegen's prediction. */
  predicted_instructions?: number;
}

/** One source's prediction of the build's resources, beside the measured figures. */
export interface PredictionReport {
  source: string;
  flash_bytes: number;
  sram_bytes: number;
  instructions_per_inference: number;
  /** (predicted - measured) / measured. */
  flash_error: number;
  sram_error: number;
  instructions_error: number;
  /** Whether the source's tables were measured on this board with its flags (null: unknown). */
  tables_match_board: boolean | null;
}

export interface BuildReport {
  format: "tinyformer-report-2";
  recipe: string;
  board: string;
  accuracy: { float: number; int8: number; images: number; split: "test" | "validation" };
  model: { parameters: number; nonzero_parameters: number; macs: number; executed_macs: number };
  memory: {
    flash: RegionUse;
    sram: RegionUse;
    sections: { text_bytes: number; rodata_bytes: number; data_bytes: number; bss_bytes: number };
    arena_bytes?: number;
    arena_lower_bound_bytes?: number;
  };
  performance: {
    instructions_per_inference: number;
    clock_hz: number;
    estimated_latency_ms: number;
  };
  /** Codegen's prediction first, then any other source's (the search's). */
  predictions: PredictionReport[];
  /** Where the search space came from, when supernas chose it (absent: the recipe gave it). */
  space?: { chosen_by: "supernas"; candidate: number; candidates: number; reason: string };
  layers: LayerReport[];
}
