// Forge tokens come from the secret store: the project's secret, else the global one, else the
// server's environment.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { envForgeTokens, secretForgeTokens } from '../../server/forges/index.ts';
import { secretKeySource } from '../../server/secrets/key.ts';
import { SecretVault } from '../../server/secrets/vault.ts';
import { openStore } from '../../server/store/index.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('a project secret, then a global one, then the environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-forge-tokens-'));
  dirs.push(dir);
  const store = await openStore(dir);
  try {
    const key = await secretKeySource(store.dataDir, {});
    const vault = new SecretVault(store.secrets, key.read);
    const project = await store.projects.create({ name: 'app', repo: 'https://git.example.com/o/app.git' });
    const other = await store.projects.create({ name: 'other', repo: 'https://git.example.com/o/other.git' });
    const noLimits = { events: null, branches: null };
    await vault.set(
      { kind: 'project', projectId: project.id },
      { name: 'GITHUB_TOKEN', value: 'ghp_project_token', limits: noLimits, by: 'admin' },
    );
    await vault.set(
      { kind: 'global' },
      { name: 'GITHUB_TOKEN', value: 'ghp_global_token', limits: noLimits, by: 'admin' },
    );
    // Limits are for steps: the server's own use of a token ignores them.
    await vault.set(
      { kind: 'global' },
      {
        name: 'GITLAB_TOKEN',
        value: 'glpat-global',
        limits: { events: ['cron'], branches: ['nope'] },
        by: 'admin',
      },
    );
    const tokens = secretForgeTokens(vault, envForgeTokens({ GBCMS_GITEA_TOKEN: 'gitea-from-env' }));
    assert.equal(await tokens.forgeToken(project, 'github'), 'ghp_project_token');
    assert.equal(await tokens.forgeToken(other, 'github'), 'ghp_global_token');
    assert.equal(await tokens.forgeToken(project, 'gitlab'), 'glpat-global');
    assert.equal(await tokens.forgeToken(project, 'gitea'), 'gitea-from-env');
    assert.equal(await secretForgeTokens(vault, envForgeTokens({})).forgeToken(project, 'gitea'), undefined);
  } finally {
    await store.close();
  }
});
