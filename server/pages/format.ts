// How times, durations, refs and commits read on the pages.
import { formatDuration } from '../../engine/config/units.ts';
import type { Execution } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** `3 minutes ago`, `yesterday`, `now`. */
export function relativeTime(iso: string, now: Date): string {
  const seconds = Math.round((Date.parse(iso) - now.getTime()) / 1000);
  if (Math.abs(seconds) < 5) return 'now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
  }
  return relative.format(seconds, 'second');
}

/** A <time> element: relative text, the exact time on hover. */
export function timeElement(iso: string | null, now: Date): SafeHtml {
  if (iso === null) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}" title="${iso}">${relativeTime(iso, now)}</time>`;
}

/** How long it ran, or has been running. */
export function durationText(startedAt: string | null, endedAt: string | null, now: Date): string {
  if (startedAt === null) return '–';
  const end = endedAt === null ? now.getTime() : Date.parse(endedAt);
  return formatDuration(Math.max(0, end - Date.parse(startedAt)));
}

export function stepDurationText(durationMs: number | null): string {
  return durationMs === null ? '–' : formatDuration(durationMs);
}

export function shortCommit(sha: string | null): string {
  return sha === null ? '–' : sha.slice(0, 8);
}

export function refText(execution: Pick<Execution, 'ref' | 'ref_type'>): string {
  if (execution.ref === null) return '–';
  return execution.ref_type === 'tag' ? `tag ${execution.ref}` : execution.ref;
}

export function statusLabel(status: string): SafeHtml {
  return html`<span class="status status-${status}">${status}</span>`;
}
