// Secrets end to end: set through the CLI and the vault, read by steps in real containers,
// masked in logs, refused by rule (fork, event, branch) before any container starts, kept
// readable across a key rotation, and never written anywhere in clear.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LABEL_RUN } from '../../engine/backends/docker/labels.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import type { Trigger } from '../../engine/plan.ts';
import { secretCommand } from '../../server/cli/secret.ts';
import { ExecutionManager } from '../../server/executions/manager.ts';
import { KEY_FILE, secretKeySource } from '../../server/secrets/key.ts';
import { SecretVault } from '../../server/secrets/vault.ts';
import { DATABASE_FILE, openStore, type Project, type Store } from '../../server/store/index.ts';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { capture } from '../helpers/cli.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { ADA, commitAll, gitAs } from '../helpers/git.ts';
import { collectEvents } from './helpers/collect-events.ts';

const PROJECT_VALUE = 'project-deploy-key-4b1d9e';
const GLOBAL_VALUE = 'global-deploy-key-77c0aa';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const PIPELINE = `version: 1
name: secrets-demo
steps:
  deploy:
    image: busybox:stable
    secrets: [DEPLOY_KEY]
    commands:
      - echo "deploying with $DEPLOY_KEY"
      - printf %s "$DEPLOY_KEY" | sha256sum
`;

describe('secrets on Docker', await dockerTestOptions(), () => {
  let root: string;
  let dataDir: string;
  let store: Store;
  let manager: ExecutionManager;
  let project: Project;
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  /** `gbcms secret ...` with the value on stdin, as a user would pipe it. */
  const secretCli = async (argv: string[], stdin = '') => {
    const stdout = capture();
    const stderr = capture();
    const code = await secretCommand(
      [...argv, '--data', dataDir],
      { stdout, stderr, cwd: root, env: {} },
      Readable.from([Buffer.from(stdin)]),
    );
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  const run = async (trigger: Trigger) => {
    const execution = await manager.start({ project, trigger, source: { kind: 'project' } });
    const events = await collectEvents(manager, execution.id);
    const final = events.at(-1);
    assert.equal(final?.type, 'end');
    const [step] = await store.steps.list(execution.id);
    assert.ok(step);
    const log = await readLogFile(join(dataDir, execution.logs_dir, step.log));
    return { execution: final.execution, step, log, events };
  };

  before(async () => {
    await ensureBusyboxImage();
    root = await mkdtemp(join(tmpdir(), 'gbcms-secrets-docker-'));
    dataDir = join(root, 'data');
    const origin = join(root, 'origin.git');
    const work = join(root, 'work');
    const git = gitAs(ADA);
    git(root, 'init', '-q', '--bare', origin);
    await mkdir(work);
    git(work, 'init', '-q');
    await writeFile(join(work, '.gbcms.yml'), PIPELINE);
    commitAll(git, work, 'Deploy with a secret');
    git(work, 'push', '-q', origin, 'HEAD:refs/heads/main', 'HEAD:refs/heads/feature');

    store = await openStore(dataDir);
    project = await store.projects.create({ name: 'secrets-demo', repo: origin, max_concurrent: 2 });
    // Built as `gbcms serve` builds it: the key file made on first start, read on every use.
    const key = await secretKeySource(store.dataDir, {});
    manager = new ExecutionManager({
      store,
      backend: new DockerBackend({ logger }),
      dataDir,
      logger,
      graceMs: 1000,
      secrets: new SecretVault(store.secrets, key.read),
    });
  });

  after(async () => {
    await manager?.drain(0);
    await store?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('a project secret overrides the global one; the step reads it and its log shows only the mask', async () => {
    assert.equal((await secretCli(['set', 'DEPLOY_KEY', '--global'], `${GLOBAL_VALUE}\n`)).code, 0);
    const set = await secretCli(['set', 'DEPLOY_KEY', '--project', project.id], `${PROJECT_VALUE}\n`);
    assert.equal(set.code, 0, set.stderr);
    const listed = await secretCli(['list', '--project', project.id]);
    assert.match(listed.stdout, /^DEPLOY_KEY\s+all\s+all\s+cli\s/m);
    assert.ok(!listed.stdout.includes(PROJECT_VALUE));

    const { execution, step, log } = await run({ event: 'push', branch: 'main' });
    assert.equal(execution.status, 'success', JSON.stringify(log));
    assert.equal(step.status, 'success');
    const texts = log.map((line) => line.text);
    assert.ok(texts.includes('deploying with ***'), JSON.stringify(texts));
    assert.ok(
      texts.some((text) => text.startsWith(sha256(PROJECT_VALUE))),
      'the step got the project value',
    );
    for (const text of texts) {
      assert.ok(!text.includes(PROJECT_VALUE) && !text.includes(GLOBAL_VALUE), text);
    }
    // The audit trail: the name and where it came from, never the value.
    assert.deepEqual(await store.secrets.usedBy(execution.id), [
      { scope_key: `project:${project.id}`, name: 'DEPLOY_KEY' },
    ]);
    const uses = await store.secrets.uses(`project:${project.id}`, 'DEPLOY_KEY', 10);
    assert.deepEqual(
      uses.map((use) => use.execution_id),
      [execution.id],
    );
  });

  test('with the project secret removed, the global one is given', async () => {
    assert.equal((await secretCli(['rm', 'DEPLOY_KEY', '--project', project.id])).code, 0);
    const { execution, log } = await run({ event: 'push', branch: 'main' });
    assert.equal(execution.status, 'success');
    assert.ok(log.some((line) => line.text.startsWith(sha256(GLOBAL_VALUE))));
    assert.deepEqual(await store.secrets.usedBy(execution.id), [{ scope_key: 'global', name: 'DEPLOY_KEY' }]);
    const set = await secretCli(['set', 'DEPLOY_KEY', '--project', project.id], PROJECT_VALUE);
    assert.equal(set.code, 0);
  });

  test("a fork's pull request: the step ends error naming the secret and the rule, and no container starts", async () => {
    const { execution, step, log } = await run({ event: 'pull_request', branch: 'main', fork: true });
    assert.equal(step.status, 'error');
    assert.equal(step.reason, 'secret DEPLOY_KEY is not available to pull requests from forks');
    assert.equal(step.attempts, 0);
    assert.ok(log.some((line) => line.text.includes('not available to pull requests from forks')));
    assert.equal(execution.fork, 1);
    const environments = await store.environments.listByExecution(execution.id);
    assert.deepEqual(
      environments.filter((e) => e.step !== null),
      [],
    );
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_RUN}=${execution.id}`, 'gbcms.role=step'] },
    });
    assert.deepEqual(containers, []);
    assert.deepEqual(await store.secrets.usedBy(execution.id), []);
  });

  test('event and branch limits refuse with the rule in the reason', async () => {
    const limited = await secretCli(
      [
        'set',
        'DEPLOY_KEY',
        '--project',
        project.id,
        '--events',
        'push,manual',
        '--branches',
        'main,release/*',
      ],
      PROJECT_VALUE,
    );
    assert.equal(limited.code, 0, limited.stderr);
    const byEvent = await run({ event: 'pull_request', branch: 'main' });
    assert.equal(byEvent.step.status, 'error');
    assert.equal(
      byEvent.step.reason,
      'secret DEPLOY_KEY is not available to pull_request events (allowed: push, manual)',
    );
    const byBranch = await run({ event: 'push', branch: 'feature' });
    assert.equal(byBranch.step.status, 'error');
    assert.equal(
      byBranch.step.reason,
      'secret DEPLOY_KEY is not available on branch feature (allowed: main, release/*)',
    );
    for (const refused of [byEvent, byBranch]) {
      const environments = await store.environments.listByExecution(refused.execution.id);
      assert.equal(environments.filter((e) => e.step !== null).length, 0);
    }
    const allowed = await run({ event: 'push', branch: 'main' });
    assert.equal(allowed.step.status, 'success');
  });

  test('after a key rotation every secret is still given to steps; the old key is gone', async () => {
    const before = await readFile(join(dataDir, KEY_FILE), 'utf8');
    const rotated = await secretCli(['rotate-key']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stderr, /2 secrets re-encrypted/);
    assert.notEqual(await readFile(join(dataDir, KEY_FILE), 'utf8'), before);
    assert.deepEqual(
      (await readdir(dataDir)).filter((name) => name.startsWith('secret.key')),
      [KEY_FILE],
    );
    const { step, log } = await run({ event: 'push', branch: 'main' });
    assert.equal(step.status, 'success', JSON.stringify(log));
    assert.ok(log.some((line) => line.text.startsWith(sha256(PROJECT_VALUE))));
    await secretCli(['rm', 'DEPLOY_KEY', '--project', project.id]);
    const global = await run({ event: 'push', branch: 'main' });
    assert.ok(global.log.some((line) => line.text.startsWith(sha256(GLOBAL_VALUE))));
  });

  test('the database files never hold a value, nor its base64', async () => {
    for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) {
      const bytes = await readFile(join(dataDir, file)).catch(() => Buffer.alloc(0));
      for (const value of [PROJECT_VALUE, GLOBAL_VALUE]) {
        assert.equal(bytes.includes(value), false, `${file} holds a value`);
        assert.equal(
          bytes.includes(Buffer.from(value).toString('base64')),
          false,
          `${file} holds its base64`,
        );
      }
    }
  });
});
