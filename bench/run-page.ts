// The run page with big logs, in Chromium against a real server (`npm run bench:page`):
// - a stored 500,000-line step log (about 50 MB) of a failed step: the step-log API's time for
//   its last lines and for a range in its middle, the first time and again; the time from
//   navigation to the first log lines painted (noted in the page), the first time the log is
//   opened and again; then frame times while the log scrolls (a wheel turn per frame) and
//   after a jump to the middle;
// - a live step printing up to 10 MB/s through the event stream: what the benchmark managed
//   to print, the frame times meanwhile, and how many lines reached the page (counted there).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../scripts/page-server.ts';
import { buildApp } from '../server/app.ts';
import { openStore } from '../server/store/index.ts';
import { FakeExecutions } from '../test/server/helpers/fake-executions.ts';

const LINES = Number(process.env.BENCH_PAGE_LINES ?? 500_000);
const LIVE_SECONDS = Number(process.env.BENCH_PAGE_LIVE_SECONDS ?? 3);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function frames(label: string, times: number[]): string {
  return `${label}: ${times.length} frames, median ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, worst ${Math.max(...times).toFixed(1)} ms`;
}

/** Frame-to-frame times while `drive` runs in the page once per frame for `count` frames. */
async function frameTimes(page: Page, count: number, drive: string): Promise<number[]> {
  return page.evaluate(
    `new Promise((resolve) => {
      const view = document.getElementById('log');
      const times = [];
      let last = performance.now();
      let left = ${count};
      function step(now) {
        times.push(now - last);
        last = now;
        ${drive}
        if (--left > 0) requestAnimationFrame(step);
        else resolve(times.slice(1));
      }
      requestAnimationFrame(step);
    })`,
  ) as Promise<number[]>;
}

/**
 * Noted in the page, not by polling it from here: the time from navigation start to the first
 * animation frame after the first log row with text went into the DOM (the frame that paints it).
 */
const FIRST_LINES_OBSERVER = `
  new MutationObserver((_, observer) => {
    if (!document.querySelector('#log .line:not(.line-loading) .line-text')) return;
    observer.disconnect();
    requestAnimationFrame(() => { window.benchFirstLines = performance.now(); });
  }).observe(document, { childList: true, subtree: true });
`;

/** Milliseconds from navigation start to the first log rows painted. */
async function timeToFirstLines(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  const painted = await page.waitForFunction(
    () => (window as { benchFirstLines?: number }).benchFirstLines,
    undefined,
    { polling: 100 },
  );
  return (await painted.jsonValue()) as number;
}

const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-page-'));
const store = await openStore(join(dir, 'data'));
const executions = new FakeExecutions(store);
const app = await buildApp({
  store,
  executions,
  logger: { level: 'silent' },
  rateLimit: { max: 1e9, timeWindowMs: 60_000 },
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const project = await store.projects.create({
  name: 'bench',
  repo: '/srv/bench.git',
  visibility: 'public',
  owner_id: null,
});
const browser = await launchChromium();
try {
  // Two executions with the same stored log, written as the engine stores plain output
  // (several lines per record): one opened by the API, the other by the page, each first.
  const time = new Date().toISOString();
  const records: string[] = [];
  for (let seq = 1; seq <= LINES; seq += 20) {
    const text = Array.from(
      { length: Math.min(20, LINES - seq + 1) },
      (_, i) =>
        `${(seq + i) % 2 ? '\u001b[32mok\u001b[0m' : 'compiling'} src/module-${seq + i}.ts in ${(seq + i) % 97} ms, ${'cached '.repeat(6)}`,
    );
    records.push(JSON.stringify({ seq, time, stream: 'stdout', text: text.join('\n') }));
  }
  const body = `${records.join('\n')}\n`;
  const stored = async (size: 'big' | 'small' = 'big') => {
    const execution = await executions.start({
      project,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    await executions.begin(execution.id);
    await executions.step(execution.id, 'build', 'running');
    const file = join(store.dataDir, execution.logs_dir, 'logs', 'build.log');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, size === 'big' ? body : `${records[0]}\n`);
    // Failed: the page opens on it, scrolled to its end, as on the run someone comes to read.
    await executions.step(execution.id, 'build', 'failure', { reason: 'exit code 1' });
    await executions.finish(execution.id, 'failure');
    return execution.id;
  };
  const [byApi, byPage, small] = [await stored(), await stored(), await stored('small')];
  console.log(`stored log: ${LINES} lines, ${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(FIRST_LINES_OBSERVER);
  // Warm-up: the browser's and the server's first page and first range (code not compiled
  // yet) is not what this measures, the first read of a big log is.
  await page.goto(`${url}/`);
  await (await fetch(`${url}/api/executions/${small}/steps/build/log?limit=500`)).json();
  const timed = async (query: string) => {
    const started = performance.now();
    await (await fetch(`${url}/api/executions/${byApi}/steps/build/log?${query}`)).json();
    return `${(performance.now() - started).toFixed(0)} ms`;
  };
  const tailFirst = await timed('limit=500');
  const middleFirst = await timed(`from=${Math.floor(LINES / 2)}&limit=500`);
  console.log(
    `GET .../steps/build/log: the last 500 lines ${tailFirst} (log never read before), ${await timed('limit=500')} (again); 500 from the middle ${middleFirst} (first, lists the commands), ${await timed(`from=${Math.floor(LINES / 3)}&limit=500`)} (again)`,
  );
  const pageUrl = `${url}/executions/${byPage}`;
  const cold = await timeToFirstLines(page, pageUrl);
  const warm = await timeToFirstLines(page, pageUrl);
  console.log(
    `time to first log lines painted (failed step, opens at its end): ${cold.toFixed(0)} ms (log never read before), ${warm.toFixed(0)} ms (again)`,
  );
  console.log(frames('scrolling 120 px a frame', await frameTimes(page, 240, 'view.scrollTop -= 120;')));
  await page.goto(`${pageUrl}#build-${Math.floor(LINES / 2)}`);
  await page.locator('#log .line.highlight').waitFor();
  console.log(
    frames(
      'flinging 4,000 px a frame (rows fetched as they come into view)',
      await frameTimes(page, 120, 'view.scrollTop += 4000;'),
    ),
  );
  console.log(`rows in the DOM: ${await page.locator('#log .line').count()}`);

  // A live step printing about 10 MB/s: 100-byte lines, 100,000 a second, sent in batches.
  const live = await executions.start({
    project,
    trigger: { event: 'push', branch: 'main' },
    source: { kind: 'project' },
  });
  await executions.begin(live.id);
  await executions.step(live.id, 'stream', 'running');
  await executions.log(live.id, 'stream', 'starting');
  const livePage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await livePage.goto(`${url}/executions/${live.id}`);
  await livePage.locator('#log .line-text', { hasText: 'starting' }).waitFor();
  const pad = 'x'.repeat(80);
  let printing = true;
  let sent = 0;
  const printer = (async () => {
    const started = performance.now();
    while (printing) {
      // 10 MB/s in 100-byte lines: as many as the elapsed time allows, then yield. Up to half a
      // second's worth at once: a write that takes long (a loaded disk) must not cap the rate.
      const due = Math.floor(((performance.now() - started) / 1000) * 100_000);
      const batch: string[] = [];
      for (; sent < due && batch.length < 50_000; sent++) batch.push(`line ${sent} ${pad}`);
      if (batch.length > 0) await executions.logs(live.id, 'stream', batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const measuring = performance.now();
  // Lines that reached the page: the log view's last line number, read in the page at the first
  // and the last measured frame (lines arrive in order, so every number below it came too).
  const received = (await frameTimes(
    livePage,
    Math.round(LIVE_SECONDS * 60),
    'if (left === 1 || times.length === 1) times.push({ total: window.gbcmsLog.total, at: now });',
  )) as (number | { total: number; at: number })[];
  const seconds = (performance.now() - measuring) / 1000;
  printing = false;
  await printer;
  const liveFrames = received.filter((time): time is number => typeof time === 'number');
  const [first, last] = received.filter((time) => typeof time !== 'number') as {
    total: number;
    at: number;
  }[];
  const reached = (last?.total ?? 0) - (first?.total ?? 0);
  const reachedSeconds = ((last?.at ?? 0) - (first?.at ?? 0)) / 1000;
  console.log(
    frames(
      `live step printing ${((sent * 100) / seconds / 1e6).toFixed(1)} MB/s (${sent} lines of 100 bytes in ${seconds.toFixed(1)} s)`,
      liveFrames,
    ),
  );
  console.log(
    `  lines that reached the page: ${reached} in ${reachedSeconds.toFixed(1)} s (${Math.round(reached / reachedSeconds)} lines/s, ${((reached * 100) / reachedSeconds / 1e6).toFixed(1)} MB/s); rows in the DOM: ${await livePage.locator('#log .line').count()}`,
  );
} finally {
  await browser.close();
  await app.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
