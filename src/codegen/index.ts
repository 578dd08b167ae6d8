export {
  CODEGEN_VERSION,
  type CodegenSummary,
  type GeneratedFile,
  type GeneratedProgram,
  type GenerateOptions,
  generateModelCode,
  irDigest,
  type LayerSummary,
} from "./generate.js";
export {
  buildHostHarness,
  type HostMismatch,
  type HostRun,
  type HostVerification,
  hostHarnessSource,
  runHostHarness,
  type VerifyHostOptions,
  verifyHost,
} from "./host-verify.js";
export {
  type KernelCall,
  type SelectedLayer,
  UnsupportedOpError,
  type WeightPolicy,
} from "./kernel-calls.js";
export { type MemoryPlan, planMemory } from "./plan-memory.js";
export { type ModelPlan, type PlanModelOptions, planModel } from "./plan-model.js";
export { modelTemplatesDir } from "./render.js";
export { selectKernels } from "./select-kernels.js";
export { CODEGEN_SUMMARY_FILE, readLayerKernels } from "./summary-file.js";
export { type WrittenProgram, writeGeneratedFiles } from "./write.js";
