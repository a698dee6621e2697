// Search excerpts and their marks (js/excerpt.js), under Node's test runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { excerptPieces } from '../../public/js/excerpt.js';

const joined = (pieces) => pieces.map((p) => p.text).join('');

test('the marked words of an excerpt become their own pieces, the rest stays text', () => {
  const excerpt = 'Budsjettet for årsmøtet er klart.';
  const pieces = excerptPieces(excerpt, [[0, 10], [15, 23]]);
  assert.deepEqual(pieces, [
    { text: 'Budsjettet', mark: true },
    { text: ' for ', mark: false },
    { text: 'årsmøtet', mark: true },
    { text: ' er klart.', mark: false },
  ]);
  assert.equal(joined(pieces), excerpt);
});

test('marks count UTF-16 code units, as the hub sends them (an emoji is two)', () => {
  const excerpt = '🎉 Årsmøtet';
  const pieces = excerptPieces(excerpt, [[3, 11]]);
  assert.deepEqual(pieces.filter((p) => p.mark).map((p) => p.text), ['Årsmøtet']);
  assert.equal(joined(pieces), excerpt);
});

test('markup in a message is a piece of text like any other', () => {
  const excerpt = '<img src=x onerror=alert(1)> møte';
  const pieces = excerptPieces(excerpt, [[29, 33]]);
  assert.equal(pieces[0].text, '<img src=x onerror=alert(1)> ');
  assert.equal(pieces[0].mark, false);
  assert.equal(joined(pieces), excerpt);
});

test('pairs out of range, empty, overlapping, backwards or not numbers are skipped and lose no text', () => {
  const excerpt = 'kaffe og te';
  const pieces = excerptPieces(excerpt, [[0, 5], [3, 7], [9, 99], [6, 6], ['a', 2], [8, 6], null, [9, 11]]);
  assert.deepEqual(pieces.filter((p) => p.mark).map((p) => p.text), ['kaffe', 'te']);
  assert.equal(joined(pieces), excerpt);
});

test('no marks, or no excerpt, give the text unmarked', () => {
  assert.deepEqual(excerptPieces('hei', undefined), [{ text: 'hei', mark: false }]);
  assert.deepEqual(excerptPieces(null, [[0, 1]]), [{ text: '', mark: false }]);
});
