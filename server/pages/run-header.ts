// The top of the run page: status, what triggered it, the commit's first line, who, where, how
// long (the browser keeps a running execution's duration ticking from data-started), and why
// it ended as it did, or what it waits for.

import type { SourceExcerpt } from '../../engine/source-excerpt.ts';
import type { ShownDiagnostic } from '../executions/pipeline-diagnostics.ts';
import type { Execution, Project, StoredStep } from '../store/index.ts';
import { durationText, refText, shortCommit, timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export interface RunHeaderInput {
  project: Project;
  execution: Execution;
  steps: readonly StoredStep[];
  session?: { id: string; label: string } | undefined;
  forge?: { name: string; repo: string; problem: string | null } | undefined;
  secrets?: readonly { name: string; scope: string }[] | undefined;
  /** An invalid pipeline file's errors with their source lines; else they are read from the reason. */
  diagnostics?: readonly ShownDiagnostic[] | undefined;
  now: Date;
}

export function runHeader(input: RunHeaderInput): SafeHtml {
  const { project, execution, steps, session, forge, secrets, diagnostics, now } = input;
  const [title, ...rest] = (execution.message ?? '').split('\n');
  const reason = runReason(execution, steps);
  return html`<header class="run-header">
<h1><span id="status" class="status status-${execution.status}">${execution.status}</span>
<a href="/projects/${encodeURIComponent(project.id)}">${project.name}</a> #${execution.number}${execution.name ? html` <span class="execution-name">${execution.name}</span>` : ''}</h1>
${title ? html`<p class="run-message" title="${rest.join('\n').trim()}">${title}</p>` : ''}
<dl class="meta run-facts">
<dt>Trigger</dt><dd>${execution.external ? 'external' : execution.trigger_event}</dd>
<dt>Branch</dt><dd>${refText(execution)}</dd>
<dt>Commit</dt><dd><code title="${execution.commit_sha ?? ''}">${shortCommit(execution.commit_sha)}</code></dd>
${execution.author ? html`<dt>Author</dt><dd>${execution.author}</dd>` : ''}
<dt>Created</dt><dd>${timeElement(execution.created_at, now)}</dd>
<dt>Duration</dt><dd><span id="duration" class="ticking"${execution.started_at ? html` data-started="${execution.started_at}"` : ''}${execution.ended_at ? html` data-ended="${execution.ended_at}"` : ''}>${durationText(execution.started_at, execution.ended_at, now)}</span></dd>
${execution.runner ? html`<dt>Runner</dt><dd id="runner">${execution.runner}</dd>` : ''}
${execution.concurrency_group !== null ? html`<dt>Concurrency group</dt><dd id="concurrency-group"><code>${execution.concurrency_group}</code></dd>` : ''}
${forge ? html`<dt>Status to</dt><dd id="forge-status">${forge.name} ${forge.repo}${forge.problem ? html` <span class="error" id="forge-problem">${forge.problem}</span>` : ''}</dd>` : ''}
${execution.approved_by ? html`<dt>Approved</dt><dd id="approved">by ${execution.approved_by}${execution.approved_at ? html` ${timeElement(execution.approved_at, now)}` : ''}</dd>` : ''}
${secrets && secrets.length > 0 ? html`<dt>Secrets</dt><dd id="secrets">${secrets.map((s) => html`<code>${s.name}</code> <span class="tag">${s.scope}</span> `)}</dd>` : ''}
${session ? html`<dt>Session</dt><dd><a id="session-link" href="/sessions/${encodeURIComponent(session.id)}">${session.label}</a></dd>` : ''}
</dl>
<div id="reason-box" class="run-reason"${reason === null ? html` hidden` : ''}><strong>Reason</strong> <span id="reason">${reason ?? ''}</span></div>
${diagnosticsList(diagnostics && diagnostics.length > 0 ? diagnostics : fromReason(execution.reason))}
${waitNotice(project, execution)}
</header>`;
}

/**
 * Why the run ended as it did. An execution whose steps failed has no reason of its own: the
 * failed steps and theirs are the reason.
 */
export function runReason(execution: Execution, steps: readonly StoredStep[]): string | null {
  if (execution.reason) return firstLine(execution.reason);
  if (!['failure', 'error', 'killed'].includes(execution.status)) return null;
  const failed = steps.filter((step) => ['failure', 'error', 'killed'].includes(step.status));
  if (failed.length === 0) return null;
  return failed
    .map(
      (step) =>
        `${step.name} ${step.status === 'failure' ? 'failed' : step.status}${step.reason ? ` (${step.reason})` : ''}`,
    )
    .join('; ');
}

function firstLine(text: string): string {
  const lines = text.split('\n');
  return lines.length > 1 && DIAGNOSTIC.test(lines[0] ?? '')
    ? `the pipeline file is not valid (${lines.length} errors)`
    : text;
}

/** `FILE:LINE:COL: error CODE: message`, as the server records an invalid pipeline file. */
const DIAGNOSTIC = /^(.+?):(\d+):(\d+): (error|warning) ([A-Za-z0-9_]+): (.*)$/;

/** The errors of an execution kept before their source lines were: parsed from the reason. */
function fromReason(reason: string | null): ShownDiagnostic[] {
  const found = (reason ?? '').split('\n').map((line) => DIAGNOSTIC.exec(line));
  if (found.some((match) => match === null)) return [];
  return found.map((match) => {
    const [text, file, line, col, severity, code, message] = match as RegExpExecArray;
    return {
      text,
      file: file as string,
      line: Number(line),
      col: Number(col),
      severity: severity as ShownDiagnostic['severity'],
      code: code as string,
      message: message as string,
    };
  });
}

/** An invalid pipeline file's errors, each at its place in the file, with the lines around it. */
function diagnosticsList(diagnostics: readonly ShownDiagnostic[]): SafeHtml | '' {
  if (diagnostics.length === 0) return '';
  return html`<section id="diagnostics" class="diagnostics" aria-label="Pipeline file errors">
<p>The pipeline file could not be run:</p>
<ol>${diagnostics.map((d) => {
    const place = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
    return html`<li class="diagnostic diagnostic-${d.severity}"><code class="place">${place}</code> <span class="code">${d.code}</span> ${d.message}${d.source ? sourceLines(d.source) : ''}</li>`;
  })}</ol>
</section>`;
}

/** The excerpt with line numbers, the pointed line marked and a caret under its column. */
function sourceLines(source: SourceExcerpt): SafeHtml {
  const width = String(source.first + source.lines.length - 1).length;
  return html`<pre class="source" tabindex="0" aria-label="lines ${source.first} to ${source.first + source.lines.length - 1} of the file">${source.lines.map(
    (text, i) => {
      const n = source.first + i;
      const number = String(n).padStart(width, ' ');
      if (n !== source.line)
        return html`<span class="source-line"><span class="ln">${number}</span> ${text}</span>
`;
      const caret = `${' '.repeat(width + 1 + source.col - 1)}^`;
      return html`<span class="source-line source-at"><span class="ln">${number}</span> ${text}</span>
<span class="caret" aria-hidden="true">${caret}</span>
`;
    },
  )}</pre>`;
}

/** What a run that has not started waits for; a fork's approval has its own box. */
function waitNotice(project: Project, execution: Execution): SafeHtml | '' {
  if (execution.status !== 'pending' || execution.started_at !== null) return '';
  const limit = project.max_concurrent;
  return html`<p id="waiting" class="notice">Waiting for a free runner: this project runs at most ${limit} execution${limit === 1 ? '' : 's'} at a time, and the server has its own limit. It starts by itself as soon as one is free.</p>`;
}
