// The log of the selected step, as the server first renders it: a toolbar and an empty scroller.
// assets/log-view.js fills it with the lines in view only (fetched by range from the step-log
// API, followed live from the event stream), so a 500,000-line log costs what a screenful does.
import { html, type SafeHtml } from './html.ts';

export interface LogViewInput {
  /** The step the page opens on. */
  step: string | undefined;
  /** The plain-text log of every step: what a browser without scripts can read. */
  plain: string;
  /** A step's plain-text log. */
  stepPlain: (step: string) => string;
  /** `<base><encoded step name>/log?from=&limit=` answers a range of lines. */
  linesBase: string;
}

export function logView({ step, plain, stepPlain, linesBase }: LogViewInput): SafeHtml {
  return html`<section id="log-panel" class="step-log log-panel"${step === undefined ? '' : html` data-step="${step}"`} aria-labelledby="log-title">
<div class="log-toolbar">
<h2 id="log-title">${step ?? 'Logs'}</h2>
<a class="small" id="log-plain" href="${step === undefined ? plain : stepPlain(step)}">plain text</a>
<label class="small toggle"><input type="checkbox" id="show-timestamps"> timestamps</label>
<label class="small toggle"><input type="checkbox" id="show-report-lines"> show report lines</label>
</div>
<p id="log-state" class="log-state" hidden></p>
<div id="log" class="log-view" tabindex="0" role="log" aria-label="Log lines" data-lines="${linesBase}" data-plain="${plain}"><div class="log-spacer"></div></div>
<noscript><p><a href="${plain}">Read the logs as plain text.</a></p></noscript>
</section>`;
}
