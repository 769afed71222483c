// The reports part of an execution page, kept current in the browser: metric charts (through
// charts.js), a progress bar per step, test results per step and annotations. It builds the
// same markup the server renders (server/pages/reports-view.ts); every reported text is set
// with textContent.
//
// Where reports come from: the stored ones from the reports API (`data-reports`) when the
// server has it, and the execution's event stream, which replays everything from the start
// and then follows. Events are held back until the stored reports are in; report events carry
// their number in the API (`seq`), so those already loaded are skipped. Without the API the
// event stream alone fills the page. A running page's
// stream is opened by execution.js, which hands report events over; an ended page opens it
// here only when there is no reports API to ask.

(() => {
  const root = document.getElementById('execution');
  const section = document.getElementById('reports');
  if (!root || !section) return;
  const FINISHED = new Set(['success', 'failure', 'error', 'killed', 'skipped']);
  const LEVEL = /^(notice|warning|error)$/;
  const PAGE = 5000;
  const MAX_PAGES = 1000;

  const blocks = {
    progress: document.getElementById('progress-block'),
    charts: document.getElementById('charts-block'),
    tests: document.getElementById('tests-block'),
    annotations: document.getElementById('annotations-block'),
  };
  // Server-rendered content is replaced by the browser's own the first time a block changes.
  const fresh = new Set();

  function own(name, list) {
    if (!fresh.has(name)) {
      fresh.add(name);
      list.replaceChildren();
    }
    blocks[name].hidden = false;
  }

  function chartKey(name) {
    const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('.'));
    return cut > 0 ? name.slice(0, cut) : name;
  }

  const board =
    typeof window.gbcmsChartBoard === 'function' && typeof window.uPlot === 'function'
      ? window.gbcmsChartBoard(document.getElementById('charts'), {
          title(key, list) {
            const names = new Set(list.map((series) => series.name));
            return names.size === 1 ? list[0].name : key;
          },
          label(series, list) {
            const steps = new Set(list.map((other) => other.group));
            return steps.size > 1 ? `${series.name} (${series.group})` : series.name;
          },
        })
      : undefined;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function formatDuration(ms) {
    if (ms < 1000) return `${Math.round(ms)}ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m${Math.round(s % 60)}s`;
    return `${Math.floor(m / 60)}h${m % 60}m`;
  }

  function byStep(list, step) {
    for (const node of list.children) if (node.dataset.step === step) return node;
    return undefined;
  }

  // Metrics.

  function metric(step, report) {
    if (!board || typeof report.name !== 'string' || typeof report.value !== 'number') return;
    if (blocks.charts.hidden) blocks.charts.hidden = false;
    board.add({
      chart: chartKey(report.name),
      series: `${step}\n${report.name}`,
      name: report.name,
      group: step,
      time: Date.parse(report.time),
      step: typeof report.step === 'number' ? report.step : undefined,
      value: report.value,
    });
  }

  // Progress.

  const progressTimes = new Map();

  function progress(step, report) {
    const time = Date.parse(report.time);
    if (progressTimes.has(step) && progressTimes.get(step) > time) return;
    progressTimes.set(step, time);
    const list = document.getElementById('progress');
    own('progress', list);
    let row = byStep(list, step);
    if (!row) {
      row = el('div', 'progress-row');
      row.dataset.step = step;
      row.append(
        el('span', 'progress-step', step),
        el('progress'),
        el('span', 'progress-count'),
        el('span', 'progress-message'),
      );
      list.appendChild(row);
    }
    const bar = row.querySelector('progress');
    bar.max = report.total;
    bar.value = report.done;
    row.querySelector('.progress-count').textContent = `${report.done}/${report.total}`;
    row.querySelector('.progress-message').textContent = report.message || '';
  }

  // Tests.

  const testTotals = new Map();

  function tests(step, report) {
    const total = testTotals.get(step) || {
      tests: 0,
      failures: 0,
      errors: 0,
      skipped: 0,
      duration_ms: 0,
      failed: [],
    };
    total.tests += report.tests;
    total.failures += report.failures;
    total.errors += report.errors;
    total.skipped += report.skipped;
    total.duration_ms += report.duration_ms;
    total.failed.push(...(Array.isArray(report.failed) ? report.failed : []));
    testTotals.set(step, total);

    const list = document.getElementById('tests');
    own('tests', list);
    const table = testsTable(step, total);
    const old = byStep(list, step);
    if (old) old.replaceWith(table);
    else list.appendChild(table);
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const [className, text] of cells) tr.appendChild(el('td', className, text));
    return tr;
  }

  function head(titles) {
    const thead = document.createElement('thead');
    const tr = document.createElement('tr');
    for (const title of titles) tr.appendChild(el('th', '', title));
    thead.appendChild(tr);
    return thead;
  }

  function testsTable(step, total) {
    const failing = total.failures + total.errors;
    const passed = Math.max(0, total.tests - failing - total.skipped);
    const box = el('section', 'tests');
    box.dataset.step = step;
    const title = el('h3', '', `${step} `);
    title.appendChild(
      el(
        'span',
        `status status-${failing > 0 ? 'failure' : 'success'}`,
        failing > 0 ? `${failing} failed` : 'passed',
      ),
    );
    const counts = el('table', 'list tests-counts');
    const body = document.createElement('tbody');
    body.appendChild(
      row([
        ['count-tests', total.tests],
        ['count-passed', passed],
        ['count-failures', total.failures],
        ['count-errors', total.errors],
        ['count-skipped', total.skipped],
        ['', formatDuration(total.duration_ms)],
      ]),
    );
    counts.append(head(['Tests', 'Passed', 'Failed', 'Errors', 'Skipped', 'Duration']), body);
    box.append(title, counts);
    if (total.failed.length > 0) {
      const failed = el('table', 'list failed-tests');
      const rows = document.createElement('tbody');
      for (const test of total.failed) rows.appendChild(failedRow(test));
      failed.append(head(['Failed test', 'Message']), rows);
      box.appendChild(failed);
    }
    return box;
  }

  function failedRow(test) {
    const tr = el('tr', 'failed-test');
    const name = document.createElement('td');
    name.append(
      el('div', 'test-name', test.name),
      el('div', 'muted', [test.suite, test.classname].filter(Boolean).join(' · ')),
    );
    const message = document.createElement('td');
    message.appendChild(el('div', 'test-message', test.message));
    if (test.output) {
      const details = document.createElement('details');
      details.append(el('summary', '', 'Output'), el('pre', 'test-output', test.output));
      message.appendChild(details);
    }
    tr.append(name, message);
    return tr;
  }

  // Annotations.

  function annotation(step, report) {
    const list = document.getElementById('annotations');
    own('annotations', list);
    const level = LEVEL.test(report.level) ? report.level : 'notice';
    const item = el('li', 'annotation');
    item.dataset.step = step;
    item.appendChild(el('span', `level level-${level}`, level));
    if (typeof report.file === 'string') {
      const place = typeof report.line === 'number' ? `${report.file}:${report.line}` : report.file;
      item.append(' ', el('code', 'place', place));
    }
    if (report.title) item.append(' ', el('strong', 'annotation-title', report.title));
    if (report.message) item.append(' ', el('span', 'annotation-message', report.message));
    item.append(' ', el('span', 'muted annotation-step', step));
    list.appendChild(item);
  }

  /** The last report loaded from the API, by its number there: the stream replays those again. */
  let storedUpTo = 0;

  function apply(step, report) {
    if (!report || typeof report !== 'object' || typeof step !== 'string') return;
    switch (report.type) {
      case 'metric':
        return metric(step, report);
      case 'progress':
        return progress(step, report);
      case 'tests':
        return tests(step, report);
      case 'annotation':
        return annotation(step, report);
    }
  }

  /** Reads every stored report through the API; false when the server has no such API. */
  async function loadStored() {
    const url = section.dataset.reports;
    if (!url) return false;
    let after;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (after !== undefined) query.set('after', String(after));
      let response;
      try {
        response = await fetch(`${url}?${query}`, { headers: { accept: 'application/json' } });
      } catch {
        return page > 0;
      }
      if (!response.ok) return page > 0;
      const body = await response.json();
      if (!body || !Array.isArray(body.items)) return page > 0;
      for (const item of body.items) {
        apply(item.step, item.report);
        if (typeof item.seq === 'number') storedUpTo = Math.max(storedUpTo, item.seq);
      }
      if (body.next === null || body.next === undefined || body.items.length === 0) return true;
      after = body.next;
    }
    return true;
  }

  let ready = false;
  const held = [];

  function streamed(step, seq, report) {
    if (typeof seq === 'number' && seq <= storedUpTo) return;
    apply(step, report);
  }

  window.gbcmsReports = {
    /** A report event from the execution's stream. */
    receive(step, seq, report) {
      if (ready) streamed(step, seq, report);
      else held.push([step, seq, report]);
    },
  };

  const live = !FINISHED.has(root.dataset.status);
  loadStored().then((found) => {
    ready = true;
    for (const [step, seq, report] of held.splice(0)) streamed(step, seq, report);
    if (live || found || !root.dataset.events) return;
    // An ended execution and no reports API: its replayed events are the only source.
    const source = new EventSource(root.dataset.events);
    source.addEventListener('report', (message) => {
      const event = JSON.parse(message.data);
      streamed(event.step, event.seq, event.report);
    });
    source.addEventListener('end', () => source.close());
  });
})();
