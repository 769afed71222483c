// Saves docs/run-page.png: a small pipeline (a build, a matrix of tests, a failing lint, a
// deploy its failure skipped) run for real by a real server on the fake backend, its run page
// opened in Chromium at a desktop size. `npm run screenshot`.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, repoWithPipeline, startPageServer } from './page-server.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'run-page.png');

const PIPELINE = `version: 1
name: web-app
steps:
  build:
    image: node:20
    commands: ["npm ci", "npm run build"]
    env:
      STEP_OUTPUT: "+ npm ci\\nadded 312 packages, audited 313 packages in 4s\\n\\u001b[32mfound 0 vulnerabilities\\u001b[0m\\n+ npm run build\\n> web-app@1.4.0 build\\n> vite build\\n\\u001b[36mvite v5.4.2\\u001b[0m building for production...\\n\\u001b[32m✓\\u001b[0m 214 modules transformed.\\ndist/index.html   0.46 kB\\ndist/assets/index.js  142.31 kB\\n\\u001b[32m✓ built in 2.41s\\u001b[0m\\n"
  test:
    image: node:20
    depends_on: [build]
    matrix:
      node: ["18", "20"]
    commands: ["npm test"]
    env:
      STEP_OUTPUT: "+ npm test\\n\\u001b[32m✓\\u001b[0m 48 tests passed\\n"
  lint:
    image: node:20
    depends_on: [build]
    commands: ["npm run lint"]
    env:
      STEP_OUTPUT: "+ npm run lint\\n> eslint src\\n\\n/src/api/client.ts\\n  12:7  \\u001b[31merror\\u001b[0m  'retries' is assigned a value but never used  \\u001b[90mno-unused-vars\\u001b[0m\\n  40:1  \\u001b[33mwarning\\u001b[0m  Unexpected console statement  \\u001b[90mno-console\\u001b[0m\\n\\n\\u001b[31m✖ 2 problems (1 error, 1 warning)\\u001b[0m\\n"
      STEP_EXIT_CODE: "1"
  deploy:
    image: node:20
    depends_on: [test, lint]
    commands: ["npm run deploy"]
`;

const server = await startPageServer();
try {
  const repo = await repoWithPipeline(
    server.dir,
    PIPELINE,
    'Cache the API client between requests\n\nFewer round trips on the dashboard.',
  );
  const project = await server.store.projects.create({
    name: 'web-app',
    repo,
    visibility: 'public',
    owner_id: null,
  });
  const execution = await server.manager.start({
    project,
    trigger: { event: 'push', branch: 'main' },
    source: { kind: 'project' },
  });
  const ended = new Promise<void>((resolve) => {
    void server.manager.subscribe(execution.id, (event) => {
      if (event.type === 'end') resolve();
    });
  });
  await ended;
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
  await context.addCookies([{ name: 'gbcms_token', value: server.token, url: server.url }]);
  const page = await context.newPage();
  await page.goto(`${server.url}/executions/${execution.id}`);
  await page.locator('#log .line-text', { hasText: 'problems' }).waitFor();
  await mkdir(dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT, fullPage: true });
  await browser.close();
  console.log(`saved ${OUT}`);
} finally {
  await server.close();
}
