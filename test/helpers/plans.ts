// Builds plans from inline pipeline objects, the way `gbcms run` does from a file.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePlan } from '../../engine/compile/compiler.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import type { Plan, Trigger } from '../../engine/plan.ts';

export function tempDir(prefix = 'gbcms-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function planOf(
  steps: PipelineFile['steps'],
  options: { environments?: PipelineFile['environments']; workspace?: string; trigger?: Trigger } = {},
): Plan {
  const config: PipelineFile = { version: 1, name: 'test', steps };
  if (options.environments) config.environments = options.environments;
  return compilePlan(config, {
    file: '.gbcms.yml',
    workspace: options.workspace ?? tempDir(),
    trigger: options.trigger ?? { event: 'manual', branch: 'main' },
  });
}
