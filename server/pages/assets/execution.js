// Follows a running execution on its page through the events endpoint (server-sent events):
// status, steps, log lines and artifacts appear as they happen. Log lines arrive with an
// `html` field the server rendered and escaped (colours only); every other text is set with
// textContent. Lines already on the page (the server's first render) are skipped by sequence.
// Report events go to reports.js; report command lines in the logs are marked so the page can
// hide or dim them.

(() => {
  const root = document.getElementById('execution');
  if (!root) return;
  const FINISHED = new Set(['success', 'failure', 'error', 'killed', 'skipped']);
  const STATUS = /^[a-z]+$/;
  if (FINISHED.has(root.dataset.status)) return;

  const executionId = root.dataset.id;
  const stepRows = new Map();
  for (const row of document.querySelectorAll('#steps tbody tr')) stepRows.set(row.dataset.step, row);
  const stepLogs = new Map();
  for (const section of document.querySelectorAll('#logs .step-log')) {
    const pre = section.querySelector('pre');
    stepLogs.set(section.dataset.step, { pre, lastSeq: Number(pre.dataset.lastSeq || 0) });
  }

  function statusSpan(status) {
    const span = document.createElement('span');
    span.className = STATUS.test(status) ? `status status-${status}` : 'status';
    span.textContent = status;
    return span;
  }

  function formatDuration(ms) {
    if (typeof ms !== 'number') return '–';
    if (ms < 1000) return `${Math.round(ms)}ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m${Math.round(s % 60)}s`;
    return `${Math.floor(m / 60)}h${m % 60}m`;
  }

  function cell(row, className, text) {
    const td = document.createElement('td');
    td.className = className;
    if (text !== undefined) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function stepRow(name) {
    let row = stepRows.get(name);
    if (row) return row;
    row = document.createElement('tr');
    row.dataset.step = name;
    cell(row, 'step-status');
    cell(row, '', name);
    cell(row, 'step-duration', '–');
    cell(row, 'step-attempts', '0');
    cell(row, 'step-reason', '');
    document.querySelector('#steps tbody').appendChild(row);
    stepRows.set(name, row);
    return row;
  }

  function stepLog(name) {
    let log = stepLogs.get(name);
    if (log) return log;
    const section = document.createElement('section');
    section.className = 'step-log';
    section.dataset.step = name;
    const title = document.createElement('h3');
    title.textContent = name;
    const pre = document.createElement('pre');
    pre.className = 'log';
    section.append(title, pre);
    document.getElementById('logs').appendChild(section);
    log = { pre, lastSeq: 0 };
    stepLogs.set(name, log);
    return log;
  }

  function setStatus(execution) {
    const status = document.getElementById('status');
    status.className = STATUS.test(execution.status) ? `status status-${execution.status}` : 'status';
    status.textContent = execution.status;
    root.dataset.status = execution.status;
    // A pending execution's reason (its concurrency group's turn) goes once it is its turn.
    document.getElementById('reason').textContent = execution.reason || '–';
    if (typeof execution.duration_ms === 'number') {
      document.getElementById('duration').textContent = formatDuration(execution.duration_ms);
    }
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
      const notices = document.getElementById('notices');
      notices.hidden = true;
    }
  }

  // A box per step waiting at its approval gate. The server checks who may decide; a box made
  // here offers the buttons to anyone signed in, and the answer says when they may not.
  const approvals = document.getElementById('step-approvals');
  function approvalBox(name) {
    for (const box of approvals.querySelectorAll('.step-approval')) if (box.dataset.step === name) return box;
    return undefined;
  }
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
    const box = approvalBox(step.name);
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

  const source = new EventSource(root.dataset.events);
  const on = (type, handle) =>
    source.addEventListener(type, (message) => {
      handle(JSON.parse(message.data));
    });

  on('status', (event) => setStatus(event.execution));
  on('step', ({ step }) => {
    const row = stepRow(step.name);
    row.querySelector('.step-status').replaceChildren(statusSpan(step.status));
    row.querySelector('.step-duration').textContent = formatDuration(step.duration_ms);
    row.querySelector('.step-attempts').textContent = String(step.attempts);
    row.querySelector('.step-reason').textContent = step.reason || '';
    followGate(step);
    stepLog(step.name);
  });
  on('log', ({ step, line, html }) => {
    const log = stepLog(step);
    if (line.seq <= log.lastSeq) return;
    log.lastSeq = line.seq;
    // A reader at the end of the log follows it; one who scrolled up stays where they are.
    const pre = log.pre;
    const following = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    const span = document.createElement('span');
    span.className = `line line-${STATUS.test(line.stream) ? line.stream : 'stdout'}`;
    span.dataset.seq = String(line.seq);
    // Server-rendered: ansi-to-html with escapeXML, colour spans only.
    span.innerHTML = html;
    log.pre.appendChild(span);
    if (line.report) {
      // Its line break inside, so hiding the line leaves no blank line behind.
      span.classList.add('line-report');
      span.appendChild(document.createTextNode('\n'));
    } else if (!line.partial) {
      log.pre.appendChild(document.createTextNode('\n'));
    }
    if (following) pre.scrollTop = pre.scrollHeight;
  });
  on('artifact', ({ artifact }) => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `/api/executions/${encodeURIComponent(executionId)}/artifacts/${artifact.path.split('/').map(encodeURIComponent).join('/')}`;
    link.setAttribute('download', '');
    link.textContent = artifact.path;
    item.appendChild(link);
    document.getElementById('artifacts').appendChild(item);
    const none = document.getElementById('no-artifacts');
    if (none) none.remove();
  });
  on('report', ({ step, seq, report }) => {
    if (window.gbcmsReports) window.gbcmsReports.receive(step, seq, report);
  });
  on('notice', ({ message }) => {
    const notices = document.getElementById('notices');
    notices.hidden = false;
    notices.textContent = message;
  });
  on('end', (event) => {
    setStatus(event.execution);
    source.close();
  });
})();
