// What the execution manager needs of a logger; a pino logger fits.
export interface ExecutionLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
