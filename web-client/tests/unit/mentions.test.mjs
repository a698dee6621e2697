// Mentions (js/mentions.js): highlighting, `@` completion, the unread-mention count.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { complete, completionAt, matchMembers, MentionCount, mentionPieces } from '../../public/js/mentions.js';

test('the ids a message mentions are pieces of their own; other @words stay text', () => {
  const pieces = mentionPieces('Hei @kari og @nobody, se @ola.', ['kari', 'ola']);
  assert.deepEqual(pieces, [
    { text: 'Hei ', mention: null },
    { text: '@kari', mention: 'kari' },
    { text: ' og @nobody, se ', mention: null },
    { text: '@ola', mention: 'ola' },
    { text: '.', mention: null },
  ]);
});

test('an address is not a mention, @channel is one only when the hub said so', () => {
  assert.deepEqual(mentionPieces('skriv til ola@firma.no', ['firma.no']), [{ text: 'skriv til ola@firma.no', mention: null }]);
  assert.equal(mentionPieces('@channel møte nå', [], true)[0].mention, 'channel');
  assert.equal(mentionPieces('@channel møte nå', [], false)[0].mention, null);
  assert.deepEqual(mentionPieces(undefined, ['kari']), [{ text: '', mention: null }]);
});

test('the @word at the caret is found, not one in an address or already ended', () => {
  assert.deepEqual(completionAt('Hei @ka', 7), { start: 4, query: 'ka' });
  assert.deepEqual(completionAt('@', 1), { start: 0, query: '' });
  assert.equal(completionAt('ola@fir', 7), null);
  assert.equal(completionAt('Hei @kari ', 10), null);
  assert.equal(completionAt('Hei', 3), null);
});

test('members match by id or by any word of the name, ids first; oneself and unmentionable ids are left out', () => {
  const members = [
    { id: 'kari', name: 'Kari Hansen' },
    { id: 'ola', name: 'Ola Nordmann' },
    { id: 'hans', name: 'Hans Karlsen' },
    { id: 'me', name: 'Meg Selv' },
    { id: 'per olsen', name: 'Per Olsen' },
  ];
  assert.deepEqual(matchMembers(members, 'ka', { exclude: 'me' }).map((m) => m.id), ['kari', 'hans']);
  assert.deepEqual(matchMembers(members, 'NORD').map((m) => m.id), ['ola']);
  assert.deepEqual(matchMembers(members, 'me', { exclude: 'me' }), []);
  assert.deepEqual(matchMembers(members, 'per').map((m) => m.id), []);
  assert.equal(matchMembers(members, '', { max: 2 }).length, 2);
});

test('completing replaces the @word, with a space after it unless one (or punctuation) follows', () => {
  assert.deepEqual(complete('Hei @ka', { start: 4, query: 'ka' }, 'kari'), { text: 'Hei @kari ', caret: 10 });
  assert.deepEqual(complete('@o, kom', { start: 0, query: 'o' }, 'ola'), { text: '@ola, kom', caret: 4 });
  assert.deepEqual(complete('@o kom', { start: 0, query: 'o' }, 'ola'), { text: '@ola kom', caret: 4 });
});

test("the welcome's count holds until the reader is past it; live mentions count once each", () => {
  const c = new MentionCount();
  c.fromHub(2, 10);
  assert.equal(c.unread(5), 2);
  assert.equal(c.add(12), true);
  assert.equal(c.add(12), false, 'a mention event twice (an edit) counts once');
  assert.equal(c.add(9), false, 'already in the stored count');
  assert.equal(c.unread(5), 3);
  assert.equal(c.unread(10), 1);
  assert.equal(c.unread(12), 0);
  assert.equal(c.remove(12), true);
  assert.equal(c.unread(10), 0);
});
