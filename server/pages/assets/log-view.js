// The run page's log: a virtual list of one step's lines. Only the rows in view (and a few
// around them) are in the DOM, each at a fixed height, so a 500,000-line log scrolls like a
// short one; lines are fetched by range from the step-log API as they come into view, and
// live lines (from execution.js) are drawn once per animation frame, however fast they come.
// Lines far from the view are forgotten (fetched again if scrolled back to), so a step printing
// 10 MB/s costs the page a screenful of rows and a bounded cache, not its whole log.
// Every `+ command` line (how the engine echoes a command before it runs it) starts a section
// that folds. Line HTML comes from the server (ansi-to-html with escaping: colour spans only);
// everything else is set as text. Exposes window.gbcmsLog for execution.js.

(() => {
  const view = document.getElementById('log');
  if (!view) return;
  const spacer = view.querySelector('.log-spacer');
  const LINE_HEIGHT = 20;
  const BLOCK = 500;
  const OVERSCAN = 40;
  /** Lines kept past this many, those far from the view are dropped (at twice, to batch it). */
  const MAX_KEPT = 20000;
  const STREAM = /^(stdout|stderr|system)$/;

  let step;
  let total = 0;
  let lines = new Map();
  let requested = new Set();
  /** Sorted seqs of `+ command` lines; folded ones hide the lines up to the next. */
  let commands = [];
  let commandSet = new Set();
  let folded = new Set();
  let highlighted;
  let following = false;
  /** Live lines came since the last draw. */
  let appended = false;
  let frame = 0;
  const rows = new Map();
  const listeners = { opened: [] };

  /** [first, last] seqs each folded section hides, in order. */
  function hiddenRanges() {
    const ranges = [];
    for (let i = 0; i < commands.length; i++) {
      if (!folded.has(commands[i])) continue;
      const end = (commands[i + 1] ?? total + 1) - 1;
      if (end > commands[i]) ranges.push([commands[i] + 1, end]);
    }
    return ranges;
  }
  function shownCount(ranges) {
    return ranges.reduce((count, [a, b]) => count - (b - a + 1), total);
  }
  function seqAt(index, ranges) {
    let seq = index + 1;
    for (const [a, b] of ranges) {
      if (a > seq) break;
      seq += b - a + 1;
    }
    return seq;
  }
  function indexOf(seq, ranges) {
    let index = seq - 1;
    for (const [a, b] of ranges) if (b < seq) index -= b - a + 1;
    return index;
  }

  function timeText(iso) {
    return typeof iso === 'string' ? iso.slice(11, 23) : '';
  }

  function newRow() {
    const row = document.createElement('div');
    const number = document.createElement('a');
    number.className = 'line-number';
    const time = document.createElement('span');
    time.className = 'line-time';
    const text = document.createElement('span');
    text.className = 'line-text';
    row.append(number, time, text);
    return row;
  }

  /** Makes `row` (new, or one that scrolled out of view) show line `seq`. */
  function fillRow(row, seq, line) {
    row.className = 'line';
    row.dataset.seq = String(seq);
    const [number, time] = row.children;
    const text = row.lastElementChild;
    number.href = `#${encodeURIComponent(step)}-${seq}`;
    number.textContent = String(seq);
    row.querySelector('.fold')?.remove();
    if (line) {
      row.classList.add(`line-${STREAM.test(line.stream) ? line.stream : 'stdout'}`);
      if (line.report) row.classList.add('line-report');
      time.textContent = timeText(line.time);
      // Server-rendered: ansi-to-html with escapeXML, colour spans only.
      text.innerHTML = line.html;
      if (commandSet.has(seq)) text.before(foldButton(seq));
    } else {
      row.classList.add('line-loading');
      time.textContent = '';
      text.textContent = '';
    }
    if (seq === highlighted) row.classList.add('highlight');
  }

  function foldButton(seq) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'fold';
    const isFolded = folded.has(seq);
    button.setAttribute('aria-expanded', String(!isFolded));
    button.setAttribute(
      'aria-label',
      isFolded ? `Unfold line ${seq}'s section` : `Fold line ${seq}'s section`,
    );
    button.textContent = isFolded ? '▸' : '▾';
    button.addEventListener('click', () => {
      if (folded.has(seq)) folded.delete(seq);
      else folded.add(seq);
      for (const row of rows.values()) row.remove();
      rows.clear();
      draw();
    });
    return button;
  }

  function draw() {
    frame = 0;
    const ranges = hiddenRanges();
    const count = shownCount(ranges);
    spacer.style.height = `${count * LINE_HEIGHT}px`;
    if (following) view.scrollTop = view.scrollHeight;
    // A reader following a step that prints sees only the end: rows above it would be redrawn
    // every frame for nobody.
    const overscan = following && appended ? 0 : OVERSCAN;
    appended = false;
    const first = Math.max(0, Math.floor(view.scrollTop / LINE_HEIGHT) - overscan);
    const last = Math.min(
      count - 1,
      Math.ceil((view.scrollTop + view.clientHeight) / LINE_HEIGHT) + overscan,
    );
    const wanted = new Map();
    for (let index = first; index <= last; index++) wanted.set(seqAt(index, ranges), index);
    // Rows that left the view (or whose line has arrived since) are reused for those that came
    // into it: a fast step scrolls a whole screen a frame, and making rows anew costs more.
    const spare = [];
    for (const [seq, row] of rows) {
      if (!wanted.has(seq) || !lines.has(seq) !== row.classList.contains('line-loading')) {
        spare.push(row);
        rows.delete(seq);
      }
    }
    for (const [seq, index] of wanted) {
      let row = rows.get(seq);
      if (!row) {
        const line = lines.get(seq);
        row = spare.pop();
        if (!row) {
          row = newRow();
          view.appendChild(row);
        }
        fillRow(row, seq, line);
        rows.set(seq, row);
        if (!line) request(seq);
      }
      row.style.top = `${index * LINE_HEIGHT}px`;
    }
    for (const row of spare) row.remove();
    if (lines.size > 2 * MAX_KEPT) forgetFarLines(seqAt(first, ranges));
  }

  /** Keeps the MAX_KEPT lines around `near`; the blocks they leave can be fetched again. */
  function forgetFarLines(near) {
    const low = near - MAX_KEPT / 2;
    const high = near + MAX_KEPT / 2;
    for (const seq of lines.keys()) if (seq < low || seq > high) lines.delete(seq);
    requested = new Set(
      [...requested].filter((block) => block * BLOCK + 1 >= low && (block + 1) * BLOCK <= high),
    );
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function linesUrl(name, from, limit) {
    const query = from === undefined ? `limit=${limit}` : `from=${from}&limit=${limit}`;
    return `${view.dataset.lines}${encodeURIComponent(name)}/log?${query}`;
  }

  async function fetchLines(name, from) {
    const response = await fetch(linesUrl(name, from, BLOCK), { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`log lines: HTTP ${response.status}`);
    const body = await response.json();
    if (name !== step) return;
    for (const line of body.lines) lines.set(line.seq, line);
    total = Math.max(total, body.total);
    // The tail of a log the server has not listed yet names only the commands among its lines
    // (all there are in that stretch); a later answer lists them all: keep what each one adds.
    if (Array.isArray(body.commands) && body.commands.some((seq) => !commandSet.has(seq))) {
      for (const seq of body.commands) commandSet.add(seq);
      commands = [...commandSet].sort((a, b) => a - b);
      for (const row of rows.values()) row.remove();
      rows.clear();
    }
    schedule();
  }

  function request(seq) {
    const block = Math.floor((seq - 1) / BLOCK);
    if (requested.has(block)) return;
    requested.add(block);
    fetchLines(step, block * BLOCK + 1).catch(() => requested.delete(block));
  }

  /** Shows `name`'s log: at `line` (highlighted) when given, else at its end. */
  async function open(name, options = {}) {
    const same = name === step;
    if (!same) {
      step = name;
      total = 0;
      lines = new Map();
      requested = new Set();
      commands = [];
      commandSet = new Set();
      folded = new Set();
      for (const row of rows.values()) row.remove();
      rows.clear();
      await fetchLines(name, undefined);
    }
    highlighted = options.line;
    for (const [seq, row] of rows) row.classList.toggle('highlight', seq === highlighted);
    if (options.line !== undefined && options.line <= total) {
      following = false;
      await reveal(options.line);
    } else if (!same) {
      following = options.follow === true;
      // At the end before the first draw: rows for the top would be made, and fetched, for nothing.
      spacer.style.height = `${shownCount(hiddenRanges()) * LINE_HEIGHT}px`;
      view.scrollTop = view.scrollHeight;
      draw();
    }
    for (const listener of listeners.opened) listener(name);
  }

  /** Scrolls line `seq` to the middle of the view, unfolding its section if it is folded. */
  async function reveal(seq) {
    for (const command of [...folded]) {
      const next = commands[commands.indexOf(command) + 1] ?? total + 1;
      if (seq > command && seq < next) folded.delete(command);
    }
    if (!lines.has(seq)) {
      const block = Math.floor((seq - 1) / BLOCK);
      requested.add(block);
      await fetchLines(step, block * BLOCK + 1);
    }
    const index = indexOf(seq, hiddenRanges());
    spacer.style.height = `${shownCount(hiddenRanges()) * LINE_HEIGHT}px`;
    view.scrollTop = Math.max(0, index * LINE_HEIGHT - view.clientHeight / 2);
    draw();
  }

  /** A live line of the shown step; drawn with the others of the same frame. */
  function append(line) {
    if (lines.has(line.seq)) return;
    // A reader at the end of the log follows it; one who scrolled up stays where they are.
    if (!frame) following = view.scrollHeight - view.scrollTop - view.clientHeight < LINE_HEIGHT * 2;
    lines.set(line.seq, line);
    if (/^\+ /.test(line.html) && !commandSet.has(line.seq)) {
      commandSet.add(line.seq);
      commands.push(line.seq);
      // Replayed lines may come after a range that reached further.
      if (line.seq < commands.at(-2)) commands.sort((a, b) => a - b);
    }
    total = Math.max(total, line.seq);
    appended = true;
    schedule();
  }

  view.addEventListener('scroll', () => {
    following = view.scrollHeight - view.scrollTop - view.clientHeight < LINE_HEIGHT * 2;
    schedule();
  });
  window.addEventListener('resize', schedule);
  document.getElementById('show-timestamps')?.addEventListener('change', (event) => {
    view.classList.toggle('show-times', event.target.checked);
  });

  window.gbcmsLog = {
    open,
    append,
    get step() {
      return step;
    },
    get total() {
      return total;
    },
    onOpened(listener) {
      listeners.opened.push(listener);
    },
  };
})();
