// Store and run ids: URL-safe, and never an option to a command line (a leading '-').
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRunId } from '../../engine/run-id.ts';
import { newId } from '../../server/store/context.ts';

// One id in 64 would start with '-' if nothing prevented it: 20,000 leave no chance to miss it.
const DRAWS = 20_000;

test('ids are 12 URL-safe characters and never start with -', () => {
  for (let i = 0; i < DRAWS; i++) assert.match(newId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{11}$/);
});

test('run (execution) ids are 22 URL-safe characters and never start with -', () => {
  for (let i = 0; i < DRAWS; i++) assert.match(newRunId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
});
