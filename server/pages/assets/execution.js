// The run page in the browser: which step's log is shown (the address names it: `#build`, or
// `#build-42` for a line of it), times that tick while the run goes on, and, while it runs, the
// events endpoint (server-sent events) keeping status, steps, graph, log and artifacts current.
// The server's first render and the replayed events describe the same things: every list here
// is keyed (steps by name, artifacts by path, log lines by number), so nothing shows twice.
// Every text is set with textContent; log lines arrive as server-rendered HTML (log-view.js).
// Report events go to reports.js.

(() => {
  const root = document.getElementById('execution');
  const log = window.gbcmsLog;
  if (!root || !log) return;
  const FINISHED = new Set(['success', 'failure', 'error', 'killed', 'skipped']);
  const FAILED = new Set(['failure', 'error', 'killed']);
  const STATUS = /^[a-z]+$/;
  const executionId = root.dataset.id;
  const data = JSON.parse(document.getElementById('run-steps').textContent);
  const steps = new Map(data.steps.map((step) => [step.name, step]));
  const panel = document.getElementById('log-panel');
  const view = document.getElementById('log');
  const state = document.getElementById('log-state');
  let selected = panel.dataset.step;
  /** Someone chose a step (a click, an address): a running execution no longer moves them. */
  let chosen = false;

  function statusSpan(status) {
    const span = document.createElement('span');
    span.className = STATUS.test(status) ? `status status-${status}` : 'status';
    span.textContent = status;
    return span;
  }

  function formatDuration(ms) {
    if (typeof ms !== 'number' || Number.isNaN(ms)) return '–';
    if (ms < 1000) return `${Math.round(ms)}ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m${Math.round(s % 60)}s`;
    return `${Math.floor(m / 60)}h${m % 60}m`;
  }

  // Times tick: durations of what still runs, and how long ago the run was created.
  const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const UNITS = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  function ago(iso) {
    const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
    if (Math.abs(seconds) < 5) return 'now';
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
    }
    return 'now';
  }
  function tick() {
    for (const element of root.querySelectorAll('[data-started]')) {
      if (element.dataset.ended) continue;
      element.textContent = formatDuration(Date.now() - Date.parse(element.dataset.started));
    }
    for (const time of root.querySelectorAll('.run-facts time[datetime]'))
      time.textContent = ago(time.dateTime);
  }
  setInterval(tick, 1000);

  // Steps: the list, the graph and what the log panel says about a step without lines.
  function stepItem(name) {
    for (const item of document.querySelectorAll('#steps li')) if (item.dataset.step === name) return item;
    const item = document.createElement('li');
    item.dataset.step = name;
    const link = document.createElement('a');
    link.className = 'step-link';
    link.href = `#${encodeURIComponent(name)}`;
    const parts = ['step-status', 'step-name', 'step-duration', 'step-attempts'].map((className) => {
      const span = document.createElement('span');
      span.className = className;
      return span;
    });
    parts[1].textContent = name;
    parts[3].title = 'attempts';
    link.append(...parts);
    const reason = document.createElement('span');
    reason.className = 'step-reason';
    item.append(link, reason);
    document.getElementById('steps').appendChild(item);
    return item;
  }

  function showStep(step) {
    const item = stepItem(step.name);
    item.dataset.status = step.status;
    item.querySelector('.step-status').replaceChildren(statusSpan(step.status));
    const duration = item.querySelector('.step-duration');
    if (step.status === 'running' && step.started_at) duration.dataset.started = step.started_at;
    else delete duration.dataset.started;
    duration.textContent = formatDuration(
      step.status === 'running' ? Date.now() - Date.parse(step.started_at) : step.duration_ms,
    );
    item.querySelector('.step-attempts').textContent = step.attempts > 1 ? `${step.attempts} attempts` : '';
    item.querySelector('.step-reason').textContent =
      step.reason || (step.status === 'skipped' ? 'skipped' : '');
    for (const node of document.querySelectorAll('#step-graph .graph-step')) {
      if (node.dataset.step !== step.name) continue;
      node.dataset.status = step.status;
      node.setAttribute('aria-label', `${step.name}: ${step.status}`);
    }
  }

  /** What the panel says instead of (or above) the lines, when the step has none to show. */
  function stepState(step) {
    if (!step) return '';
    switch (step.status) {
      case 'skipped':
        return `This step did not run: ${step.reason || 'it was skipped'}.`;
      case 'blocked':
        return `This step waits for approval${step.reason ? `: ${step.reason}` : ''}.`;
      case 'pending':
        return step.needs && step.needs.length > 0
          ? `Not started: waits for ${step.needs.join(', ')}.`
          : 'Not started: waits for a free runner.';
      default:
        return '';
    }
  }

  function refreshState() {
    const step = steps.get(selected);
    const text = stepState(step);
    state.textContent = text;
    state.hidden = text === '';
    view.hidden =
      step !== undefined && ['skipped', 'blocked', 'pending'].includes(step.status) && log.total === 0;
  }

  function select(name, line) {
    if (!steps.has(name)) return;
    selected = name;
    panel.dataset.step = name;
    document.getElementById('log-title').textContent = name;
    document.getElementById('log-plain').href = `${data.plainStep}${encodeURIComponent(name)}`;
    for (const item of document.querySelectorAll('#steps li')) {
      if (item.dataset.step === name) item.querySelector('.step-link').setAttribute('aria-current', 'step');
      else item.querySelector('.step-link').removeAttribute('aria-current');
    }
    for (const node of document.querySelectorAll('#step-graph .graph-step')) {
      node.classList.toggle('selected', node.dataset.step === name);
    }
    refreshState();
    const running = steps.get(name).status === 'running';
    return log.open(name, { line, follow: running }).then(refreshState);
  }

  /** `#<step>` or `#<step>-<line>`; a step whose own name ends in `-<digits>` wins. */
  function fromAddress() {
    let target;
    try {
      target = decodeURIComponent(location.hash.slice(1));
    } catch {
      return undefined;
    }
    if (steps.has(target)) return { step: target };
    const match = /^(.*)-(\d+)$/.exec(target);
    if (match && steps.has(match[1])) return { step: match[1], line: Number(match[2]) };
    return undefined;
  }
  window.addEventListener('hashchange', () => {
    const target = fromAddress();
    if (!target) return;
    chosen = true;
    select(target.step, target.line);
  });

  // Artifacts, keyed by path: the first render and the replayed events name the same files.
  function addArtifact(artifact) {
    const list = document.getElementById('artifacts');
    for (const item of list.children) if (item.dataset.path === artifact.path) return;
    const item = document.createElement('li');
    item.dataset.path = artifact.path;
    const link = document.createElement('a');
    link.href = `/api/executions/${encodeURIComponent(executionId)}/artifacts/${artifact.path.split('/').map(encodeURIComponent).join('/')}`;
    link.setAttribute('download', '');
    link.textContent = artifact.path;
    const detail = document.createElement('span');
    detail.className = 'muted';
    detail.textContent = ` ${artifact.step}`;
    item.append(link, detail);
    list.appendChild(item);
    document.getElementById('no-artifacts').hidden = true;
  }

  /** The server's reason, else the failed steps': as the first render words it. */
  function reasonOf(execution) {
    if (execution.reason)
      return execution.reason.split('\n').length > 1 ? execution.reason.split('\n')[0] : execution.reason;
    if (!FAILED.has(execution.status)) return '';
    return [...steps.values()]
      .filter((step) => FAILED.has(step.status))
      .map(
        (step) =>
          `${step.name} ${step.status === 'failure' ? 'failed' : step.status}${step.reason ? ` (${step.reason})` : ''}`,
      )
      .join('; ');
  }

  function setStatus(execution) {
    const status = document.getElementById('status');
    status.className = STATUS.test(execution.status) ? `status status-${execution.status}` : 'status';
    status.textContent = execution.status;
    root.dataset.status = execution.status;
    const reason = reasonOf(execution);
    if (reason) document.getElementById('reason').textContent = reason;
    document.getElementById('reason-box').hidden = !reason;
    const duration = document.getElementById('duration');
    if (execution.started_at) duration.dataset.started = execution.started_at;
    if (execution.ended_at) duration.dataset.ended = execution.ended_at;
    if (typeof execution.duration_ms === 'number')
      duration.textContent = formatDuration(execution.duration_ms);
    if (execution.started_at) document.getElementById('waiting')?.remove();
    if (execution.status !== 'blocked') {
      const approval = document.getElementById('approval');
      if (approval) approval.hidden = true;
    }
    if (execution.approved_by && !document.getElementById('approved')) {
      const term = document.createElement('dt');
      term.textContent = 'Approved';
      const detail = document.createElement('dd');
      detail.id = 'approved';
      detail.textContent = `by ${execution.approved_by}`;
      document.querySelector('#execution dl.meta').append(term, detail);
    }
    if (FINISHED.has(execution.status)) {
      const terminate = document.getElementById('terminate-form');
      if (terminate) terminate.hidden = true;
      document.getElementById('notices').hidden = true;
    }
  }

  // A box per step waiting at its approval gate. The server checks who may decide; a box made
  // here offers the buttons to anyone signed in, and the answer says when they may not.
  const approvals = document.getElementById('step-approvals');
  function decisionForm(name, decision, label, className) {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = `/executions/${encodeURIComponent(executionId)}/steps/${encodeURIComponent(name)}/${decision}`;
    form.className = `inline ${decision}-step`;
    const button = document.createElement('button');
    button.type = 'submit';
    button.textContent = label;
    if (className) button.className = className;
    form.appendChild(button);
    return form;
  }
  function followGate(step) {
    const box = [...approvals.querySelectorAll('.step-approval')].find((b) => b.dataset.step === step.name);
    if (step.status !== 'blocked') {
      if (box) box.remove();
      return;
    }
    if (box) return;
    const created = document.createElement('div');
    created.className = 'notice step-approval';
    created.dataset.step = step.name;
    const text = document.createElement('p');
    const strong = document.createElement('strong');
    strong.textContent = step.name;
    const message = document.createElement('span');
    message.className = 'approval-message';
    message.textContent = step.reason || 'waiting for approval';
    text.append('Step ', strong, ' waits for approval: ', message);
    created.appendChild(text);
    if (approvals.dataset.signedIn === 'true') {
      created.append(
        decisionForm(step.name, 'approve', 'Approve'),
        ' ',
        decisionForm(step.name, 'decline', 'Decline', 'danger'),
      );
    }
    approvals.appendChild(created);
  }

  const start = fromAddress();
  if (start) chosen = true;
  if (start || selected) select(start ? start.step : selected, start?.line);
  if (FINISHED.has(root.dataset.status)) return;

  // Lines in batches: a step printing 100,000 lines a second is a few dozen messages, not as many.
  const events = root.dataset.events;
  const handlers = [];
  const on = (type, handle) => handlers.push([type, handle]);
  let source;
  let lastId = '';
  let ended = false;
  const connect = () => {
    const after = /^\d+$/.test(lastId) ? `&after=${lastId}` : '';
    source = new EventSource(`${events}${events.includes('?') ? '&' : '?'}log_batches=true${after}`);
    for (const [type, handle] of handlers) {
      source.addEventListener(type, (message) => {
        if (message.lastEventId) lastId = message.lastEventId;
        handle(JSON.parse(message.data));
      });
    }
    // After a dropped connection the browser reconnects by itself (with Last-Event-ID). An
    // answer that is no stream closes it for good: a 503 while the execution moves to another
    // server, say. Then the page connects again a little later, after the last event it got.
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED && !ended) setTimeout(connect, 3000);
    });
  };

  on('status', (event) => setStatus(event.execution));
  on('step', ({ step }) => {
    const known = steps.get(step.name);
    steps.set(step.name, { needs: [], ...known, ...step });
    showStep(steps.get(step.name));
    followGate(step);
    // A running execution follows its running step, unless someone chose one.
    if (
      step.status === 'running' &&
      !chosen &&
      step.name !== selected &&
      !FAILED.has(steps.get(selected)?.status)
    ) {
      select(step.name);
    } else if (step.name === selected) refreshState();
    else if (selected === undefined) select(step.name);
  });
  on('logs', ({ step, lines }) => {
    if (step === log.step) for (const line of lines) log.append(line);
    if (step === selected && !state.hidden) refreshState();
  });
  on('artifact', ({ artifact }) => addArtifact(artifact));
  on('report', ({ step, seq, report }) => {
    if (window.gbcmsReports) window.gbcmsReports.receive(step, seq, report);
  });
  on('notice', ({ message }) => {
    const notices = document.getElementById('notices');
    notices.hidden = false;
    notices.textContent = message;
  });
  on('end', (event) => {
    ended = true;
    setStatus(event.execution);
    source.close();
  });
  connect();
})();
