// The run page's steps: one link per step (it selects the step's log), with its status, how long
// it ran (ticking in the browser from data-started while it runs), its attempts and its reason.
// assets/execution.js builds the same markup for steps that appear later: keep them alike.
import type { StoredStep } from '../store/index.ts';
import { stepDurationText } from './format.ts';
import { html, type SafeHtml } from './html.ts';

const FAILED = new Set(['failure', 'error', 'killed']);

export function stepList(
  steps: readonly StoredStep[],
  skipReasons: ReadonlyMap<string, string>,
  rerunOf: string | null,
): SafeHtml {
  return html`<nav class="step-list" aria-label="Steps"><ol id="steps">${steps.map((step) => stepItem(step, skipReasons.get(step.name), rerunOf))}</ol></nav>`;
}

function stepItem(step: StoredStep, skipReason: string | undefined, rerunOf: string | null): SafeHtml {
  const running = step.status === 'running' && step.started_at !== null;
  return html`<li data-step="${step.name}" data-status="${step.status}">
<a class="step-link" href="#${encodeURIComponent(step.name)}">
<span class="step-status"><span class="status status-${step.status}">${step.status}</span></span>
<span class="step-name">${step.name}</span>
<span class="step-duration"${running ? html` data-started="${step.started_at}"` : ''}>${stepDurationText(step.duration_ms)}</span>
<span class="step-attempts" title="attempts">${attemptsText(step.attempts)}</span>
</a>
<span class="step-reason">${stepReason(step, skipReason)}${step.status === 'reused' && rerunOf ? reusedFrom(rerunOf, step.name) : ''}</span>
</li>`;
}

/** Where a reused step ran: the execution it was re-run from, and that step's log there. */
function reusedFrom(executionId: string, step: string): SafeHtml {
  const id = encodeURIComponent(executionId);
  return html` <span class="reused-from">(<a href="/executions/${id}#${encodeURIComponent(step)}">original execution</a>, <a href="/api/executions/${id}/logs?step=${encodeURIComponent(step)}">its log of this step</a>)</span>`;
}

function attemptsText(attempts: number): string {
  return attempts > 1 ? `${attempts} attempts` : '';
}

/** Why it ended as it did; an approved step says who let it run. */
export function stepReason(step: StoredStep, skipReason?: string): string {
  if (step.reason) return step.reason;
  if (step.status === 'skipped') return skipReason ?? 'skipped';
  if (step.approval_decision === 'approved' && step.approval_by) return `approved by ${step.approval_by}`;
  return '';
}

/**
 * The step whose log the page opens on: the first that failed, else the first running, else
 * the last that ran. The browser prefers what the address names.
 */
export function selectedStep(steps: readonly StoredStep[]): StoredStep | undefined {
  return (
    steps.find((step) => FAILED.has(step.status)) ??
    steps.find((step) => step.status === 'running') ??
    [...steps].reverse().find((step) => step.started_at !== null) ??
    steps[0]
  );
}
