// The step-log pipeline: chunks in, masked and capped JSON lines out.

export type { SafeCut, SplitLine } from './line-splitter.ts';
export { LineSplitter, MAX_LINE_CHARS, visibleText } from './line-splitter.ts';
export type { LogLine, LogStream } from './log-line.ts';
export { formatBytes, formatLogLine, parseLogRecord, readLogFile, readLogLines } from './log-line.ts';
export type { Masker } from './masker.ts';
export { createMasker, MASK, MIN_SECRET_LENGTH, maskSecrets, secretForms } from './masker.ts';
export type { StepLogOptions } from './step-log.ts';
export { DEFAULT_MAX_LOG_BYTES, DEFAULT_PARTIAL_FLUSH_MS, StepLog } from './step-log.ts';
