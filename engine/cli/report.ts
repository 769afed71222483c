// `gbcms report`: reports from a shell, so any language is a client. Outside gbcms it talks to
// a server ($GBCMS_URL, with $GBCMS_TOKEN: an API token or a session key) through the same HTTP
// reporter as `gbcms/report`; inside a gbcms step ($GBCMS_STEP is set) it prints the protocol's
// `::gbcms` lines instead, which the engine reads from the step's output.
//
//   export GBCMS_EXECUTION=$(gbcms report start --name nightly)
//   gbcms report metric loss 0.31 --step 120
//   gbcms report finish success

import { createHttpReporter, type ReporterError } from '../report/http.ts';
import { annotationInput, metricInput, progressInput } from '../report/inputs.ts';
import { formatReportLine } from '../reports/format.ts';
import type { ReportInput } from '../reports/types.ts';
import { reportProblem } from '../reports/validate.ts';
import { commandArgs } from './args.ts';
import type { CliIO } from './io.ts';

const HELP = `usage: gbcms report <command> [arguments] [options]

commands:
  start [--session S] [--name N] [--heartbeat-timeout SECONDS] [--project ID]
                      create an external execution and print its id (for $GBCMS_EXECUTION)
  metric NAME VALUE [--step N]
  progress DONE TOTAL [MESSAGE...]
  annotation --level notice|warning|error [--title T] [--message M] [--file F] [--line N]
  heartbeat           tell the server the execution is alive
  finish success|failure [--message M]

options:
  --url URL           the server (default $GBCMS_URL)
  --token T           an API token or a session key (default $GBCMS_TOKEN)
  --execution ID      the execution to report to (default $GBCMS_EXECUTION)
  -h, --help          this text

Inside a gbcms step ($GBCMS_STEP is set) metric, progress and annotation print '::gbcms'
lines instead, finish failure prints its message as an error annotation, and start,
heartbeat and finish success do nothing: the step is the execution.

exit: 0 done, 1 the server refused or could not be reached, 2 invalid usage
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  execution: { type: 'string' },
  project: { type: 'string' },
  session: { type: 'string' },
  name: { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  step: { type: 'string' },
  level: { type: 'string' },
  title: { type: 'string' },
  message: { type: 'string' },
  file: { type: 'string' },
  line: { type: 'string' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: string };

class UsageError extends Error {}

/** A decimal number as a person writes it: no hex, no Infinity, no NaN, no empty string. */
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

function number(what: string, text: string | undefined): number {
  if (text === undefined || !NUMBER.test(text))
    throw new UsageError(`${what} must be a number, not '${text ?? ''}'`);
  return Number(text);
}

function whole(what: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, not '${text}'`);
  return Number(text);
}

/** The report a metric, progress or annotation command describes; throws UsageError when invalid. */
function reportOf(command: string, args: string[], values: Values): ReportInput {
  let input: ReportInput;
  if (command === 'metric') {
    const [name, value, ...extra] = args;
    if (name === undefined || value === undefined || extra.length > 0)
      throw new UsageError('metric takes NAME VALUE');
    input = metricInput(name, number('VALUE', value), whole('--step', values.step));
  } else if (command === 'progress') {
    const [done, total, ...message] = args;
    input = progressInput(
      number('DONE', done),
      number('TOTAL', total),
      message.length > 0 ? message.join(' ') : undefined,
    );
  } else {
    if (args.length > 0) throw new UsageError('annotation takes options only');
    const level = values.level;
    if (level !== 'notice' && level !== 'warning' && level !== 'error') {
      throw new UsageError('--level must be notice, warning or error');
    }
    const line = whole('--line', values.line);
    input = annotationInput({
      level,
      ...(values.file !== undefined ? { file: values.file } : {}),
      ...(line !== undefined ? { line } : {}),
      ...(values.title !== undefined ? { title: values.title } : {}),
      ...(values.message !== undefined ? { message: values.message } : {}),
    });
  }
  const problem = reportProblem(input);
  if (problem) throw new UsageError(problem);
  return input;
}

export async function reportCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandArgs('report', argv, OPTIONS, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const [command, ...args] = parsed.positionals;
  const values = parsed.values as Values;
  const fail = (message: string, code: number) => {
    io.stderr.write(`gbcms report${command ? ` ${command}` : ''}: ${message}\n`);
    return code;
  };
  try {
    if (command === undefined)
      throw new UsageError('which command? start, metric, progress, annotation, heartbeat or finish');
    const inStep = io.env.GBCMS_STEP !== undefined;
    if (command === 'metric' || command === 'progress' || command === 'annotation') {
      const input = reportOf(command, args, values);
      if (inStep) {
        io.stdout.write(`${formatReportLine(input)}\n`);
        return 0;
      }
      return await send(io, values, (reporter) => {
        if (input.type === 'metric') reporter.metric(input.name, input.value, input.step);
        else if (input.type === 'progress') reporter.progress(input.done, input.total, input.message);
        else if (input.type === 'annotation') reporter.annotation(input);
      });
    }
    if (command === 'finish') {
      const [status, ...extra] = args;
      if ((status !== 'success' && status !== 'failure') || extra.length > 0) {
        throw new UsageError('finish takes success or failure');
      }
      if (inStep) {
        if (status === 'failure' && values.message) {
          io.stdout.write(
            `${formatReportLine({ type: 'annotation', level: 'error', message: values.message })}\n`,
          );
        }
        return 0;
      }
      return await finish(io, values, status);
    }
    if (command === 'start' || command === 'heartbeat') {
      if (args.length > 0) throw new UsageError(`${command} takes options only`);
      if (inStep) return 0;
      return await start(io, values, command);
    }
    throw new UsageError(`unknown command '${command}'`);
  } catch (error) {
    if (error instanceof UsageError) return fail(`${error.message}\n\n${HELP}`, 2);
    return fail(error instanceof Error ? error.message.replace(/^gbcms report: /, '') : String(error), 1);
  }
}

function server(io: CliIO, values: Values, needsExecution: boolean) {
  const url = values.url ?? io.env.GBCMS_URL;
  const token = values.token ?? io.env.GBCMS_TOKEN;
  const executionId = values.execution ?? io.env.GBCMS_EXECUTION;
  if (!url) throw new UsageError('no server: pass --url or set $GBCMS_URL');
  if (!token)
    throw new UsageError('no token: pass --token or set $GBCMS_TOKEN (an API token or a session key)');
  if (needsExecution && !executionId) {
    throw new UsageError(
      'no execution: pass --execution or set $GBCMS_EXECUTION (gbcms report start prints it)',
    );
  }
  const problems: ReporterError[] = [];
  const reporter = createHttpReporter({
    url,
    token,
    ...(executionId !== undefined && needsExecution ? { executionId } : {}),
    ...((values.project ?? io.env.GBCMS_PROJECT)
      ? { projectId: values.project ?? io.env.GBCMS_PROJECT }
      : {}),
    onError: (error) => problems.push(error),
  });
  return { reporter, problems };
}

async function send(
  io: CliIO,
  values: Values,
  report: (reporter: ReturnType<typeof createHttpReporter>) => void,
) {
  const { reporter, problems } = server(io, values, true);
  report(reporter);
  await reporter.flush();
  if (reporter.lost === 0) return 0;
  throw new Error(problems[0]?.message ?? 'the report was not delivered');
}

async function finish(io: CliIO, values: Values, status: 'success' | 'failure') {
  const { reporter } = server(io, values, true);
  const ended = await reporter.finish(status, values.message);
  io.stdout.write(`${ended.status}\n`);
  return 0;
}

async function start(io: CliIO, values: Values, command: 'start' | 'heartbeat') {
  const { reporter, problems } = server(io, values, command === 'heartbeat');
  const heartbeatTimeout = whole('--heartbeat-timeout', values['heartbeat-timeout']);
  const execution = await reporter.start({
    ...(values.session !== undefined ? { session: values.session } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(heartbeatTimeout !== undefined ? { heartbeatTimeout } : {}),
  });
  if (!execution) throw new Error(problems[0]?.message ?? 'the server did not answer');
  if (command === 'start') io.stdout.write(`${execution.id}\n`);
  return 0;
}
