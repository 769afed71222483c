// A session page's charts: one per metric name, one curve per execution, from the reports API
// (`?type=metric`, page by page). Executions still running are asked again every few seconds
// for their new points and their status. Names are set with textContent only.
//
// Several executions are asked at once, so their answers arrive in any order: each curve is
// ranked by its execution's row in the table (oldest first, as the server lists them), which
// fixes its place in the legend whichever answer comes first; its colour follows the row too.
// An execution's own curves (one per step that reported) follow the order of its stored reports.

(() => {
  const root = document.getElementById('session');
  if (!root || typeof window.gbcmsChartBoard !== 'function' || typeof window.uPlot !== 'function') return;
  const FINISHED = new Set(['success', 'failure', 'error', 'killed', 'skipped']);
  const STATUS = /^[a-z]+$/;
  const PAGE = 5000;
  const MAX_PAGES = 200;
  const POLL_MS = 5000;
  const CONCURRENT = 4;
  const colours = window.gbcmsChartColours || [];

  const board = window.gbcmsChartBoard(document.getElementById('charts'), {
    elapsed: true,
    title: (key) => key,
    label(series, list) {
      const twice = list.some((other) => other !== series && other.name === series.name);
      return twice ? `${series.name} (${series.group})` : series.name;
    },
  });

  const executions = [...document.querySelectorAll('#session-executions tbody tr')].map((row, index) => ({
    id: row.dataset.execution,
    label: row.dataset.label,
    api: row.dataset.api,
    reports: row.dataset.reports,
    rank: index,
    colour: colours[index % colours.length],
    finished: FINISHED.has(row.dataset.status),
    after: undefined,
    row,
  }));

  function formatDuration(ms) {
    if (ms < 1000) return `${Math.round(ms)}ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m${Math.round(s % 60)}s`;
    return `${Math.floor(m / 60)}h${m % 60}m`;
  }

  /** Fetches the execution's metric points after the last one seen. */
  async function pull(execution) {
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ type: 'metric', limit: String(PAGE) });
      if (execution.after !== undefined) query.set('after', String(execution.after));
      const response = await fetch(`${execution.reports}?${query}`, {
        headers: { accept: 'application/json' },
      });
      if (!response.ok) return;
      const body = await response.json();
      if (!body || !Array.isArray(body.items)) return;
      for (const { seq, step, report } of body.items) {
        if (typeof seq === 'number') execution.after = seq;
        if (report?.type !== 'metric' || typeof report.name !== 'string') continue;
        document.getElementById('no-metrics').hidden = true;
        board.add({
          chart: report.name,
          series: `${execution.id}\n${step}`,
          name: execution.label,
          group: step,
          colour: execution.colour,
          rank: execution.rank,
          time: Date.parse(report.time),
          step: typeof report.step === 'number' ? report.step : undefined,
          value: report.value,
        });
      }
      if (body.next === null || body.next === undefined || body.items.length === 0) return;
    }
  }

  async function refreshStatus(execution) {
    const response = await fetch(execution.api, { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    const view = await response.json();
    if (typeof view.status !== 'string') return;
    const span = document.createElement('span');
    span.className = STATUS.test(view.status) ? `status status-${view.status}` : 'status';
    span.textContent = view.status;
    execution.row.querySelector('.execution-status').replaceChildren(span);
    if (typeof view.duration_ms === 'number') {
      execution.row.querySelector('.execution-duration').textContent = formatDuration(view.duration_ms);
    }
    execution.finished = FINISHED.has(view.status);
  }

  /** Runs `work` on each item, a few at a time. */
  async function each(items, work) {
    const queue = items.slice();
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        try {
          await work(item);
        } catch {
          // One execution's answer failing leaves the others' curves.
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT }, worker));
  }

  async function poll() {
    const running = executions.filter((execution) => !execution.finished);
    if (running.length === 0) return;
    await each(running, async (execution) => {
      await refreshStatus(execution);
      await pull(execution);
    });
    setTimeout(poll, POLL_MS);
  }

  each(executions, pull).then(() => setTimeout(poll, POLL_MS));
})();
