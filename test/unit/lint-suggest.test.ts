import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { didYouMean, editDistance, SuggestionBudget, suggest } from '../../engine/lint/suggest.ts';

describe('editDistance', () => {
  test('counts insertions, deletions, substitutions and swaps of neighbours', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('abc', 'abc'), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('comands', 'commands'), 1);
    assert.equal(editDistance('teh', 'the'), 1);
  });
});

describe('suggest', () => {
  const stepKeys = ['environment', 'image', 'commands', 'depends_on', 'timeout', 'allow_failure'];

  test('finds the key a typo meant, ignoring case and separators', () => {
    assert.equal(suggest('dependson', stepKeys), 'depends_on');
    assert.equal(suggest('dependsOn', stepKeys), 'depends_on');
    assert.equal(suggest('depends-on', stepKeys), 'depends_on');
    assert.equal(suggest('Timeout', stepKeys), 'timeout');
    assert.equal(suggest('enviroment', stepKeys), 'environment');
    assert.equal(suggest('imgae', stepKeys), 'image');
  });

  test('suggests nothing when nothing is close, or the word is too short to guess from', () => {
    assert.equal(suggest('services', stepKeys), undefined);
    assert.equal(suggest('x', ['y', 'z']), undefined);
    assert.equal(suggest('f', ['e']), undefined);
    assert.equal(suggest('image', ['image']), undefined);
  });

  test('didYouMean phrases the hint, or gives nothing', () => {
    assert.equal(didYouMean('brige', ['none', 'bridge']), "; did you mean 'bridge'?");
    assert.equal(didYouMean('host', ['none', 'bridge']), '');
  });

  test('a budget stops suggesting after its allowance, so hostile files stay linear', () => {
    const budget = new SuggestionBudget(2);
    assert.equal(budget.didYouMean('imgae', ['image']), "; did you mean 'image'?");
    assert.equal(budget.didYouMean('imgae', ['image']), "; did you mean 'image'?");
    assert.equal(budget.didYouMean('imgae', ['image']), '');
  });
});
