// The run page with big logs, in Chromium against a real server (`npm run bench:page`):
// - a stored 500,000-line step log (about 50 MB): time from navigation to the first log lines
//   drawn, the same again once the server has indexed the log, then frame times while the log
//   scrolls (a wheel turn per frame) and after a jump to the middle;
// - a live step printing about 10 MB/s through the event stream: frame times while it prints.
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

/** Milliseconds from navigation start to the first log row on screen. */
async function timeToFirstLines(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  await page.locator('#log .line:not(.line-loading) .line-text').first().waitFor();
  return page.evaluate('performance.now()') as Promise<number>;
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
  const stored = async () => {
    const execution = await executions.start({
      project,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    await executions.begin(execution.id);
    await executions.step(execution.id, 'build', 'running');
    const file = join(store.dataDir, execution.logs_dir, 'logs', 'build.log');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
    await executions.step(execution.id, 'build', 'success');
    await executions.finish(execution.id, 'success');
    return execution.id;
  };
  const [byApi, byPage] = [await stored(), await stored()];
  console.log(`stored log: ${LINES} lines, ${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Warm-up: the browser's and the server's first page is not what this measures.
  await page.goto(`${url}/`);
  const apiStarted = performance.now();
  const tail = await fetch(`${url}/api/executions/${byApi}/steps/build/log?limit=500`);
  await tail.json();
  console.log(
    `GET .../steps/build/log?limit=500, first time (indexes the log): ${(performance.now() - apiStarted).toFixed(0)} ms`,
  );
  const pageUrl = `${url}/executions/${byPage}`;
  const cold = await timeToFirstLines(page, pageUrl);
  const warm = await timeToFirstLines(page, pageUrl);
  console.log(
    `time to first log lines: ${cold.toFixed(0)} ms (log not indexed yet), ${warm.toFixed(0)} ms (again)`,
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
      // 10 MB/s in 100-byte lines: as many as the elapsed time allows, then yield.
      const due = Math.floor(((performance.now() - started) / 1000) * 100_000);
      const batch: string[] = [];
      for (; sent < due && batch.length < 5000; sent++) batch.push(`line ${sent} ${pad}`);
      if (batch.length > 0) await executions.logs(live.id, 'stream', batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const measuring = performance.now();
  const liveFrames = await frameTimes(livePage, Math.round(LIVE_SECONDS * 60), '');
  const seconds = (performance.now() - measuring) / 1000;
  printing = false;
  await printer;
  const rate = (sent * 100) / seconds / 1e6;
  console.log(frames(`live step printing ${rate.toFixed(1)} MB/s (${sent} lines of 100 bytes)`, liveFrames));
} finally {
  await browser.close();
  await app.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
