// gbcms as a library: the same flow the CLI runs (read -> lint -> compile -> run on a backend).
export type { ApprovalAsker, ApprovalDecision } from './approval.ts';
export { FakeBackend } from './backends/fake.ts';
export { LocalBackend } from './backends/local/backend.ts';
export { type BackendChoice, selectBackend } from './backends/registry.ts';
export type {
  ArtifactRecord,
  Backend,
  CacheStore,
  KeptCache,
  OutputChunk,
  RunContext,
  RunInputs,
  StepCache,
  StepExit,
} from './backends/types.ts';
export { BackendError } from './backends/types.ts';
export { type CompileOptions, compilePlan } from './compile/compiler.ts';
export type { PipelineFile } from './config/pipeline-file.generated.ts';
export { type Diagnostic, formatDiagnostic, hasErrors } from './diagnostics.ts';
export type { RunEvent, RunObserver } from './events.ts';
export { type LoadedPlan, loadPlan, type PipelineSource, type PlanRequest } from './load-plan.ts';
export {
  CHECK_TIMEOUT_MS,
  loadPlanInWorker,
  type WorkerCheckOptions,
  type WorkerPlanRequest,
} from './load-plan-worker.ts';
export { type LoadedPipeline, lintPipelineSource, PipelineReadError, readPipeline } from './pipeline.ts';
export type { ApprovalGate, Plan, PlannedStep, Trigger, TriggerEvent } from './plan.ts';
export { type RunOptions, runPipeline } from './run.ts';
export { type RunFileWriter, runFileWriter } from './run-file.ts';
export type { RunRecord, StepRecord } from './run-record.ts';
export type { RunStatus, StepStatus } from './status.ts';
