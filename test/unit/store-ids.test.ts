// Store ids: 12 URL-safe characters, and never an option to a command line (a leading '-').
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../server/store/context.ts';

test('ids are 12 URL-safe characters and never start with -', () => {
  // One id in 64 would start with '-' if nothing prevented it: 20,000 leave no chance to miss it.
  for (let i = 0; i < 20_000; i++) {
    const id = newId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{11}$/);
  }
});
