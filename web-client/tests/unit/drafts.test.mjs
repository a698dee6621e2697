// Drafts (js/drafts.js): kept per user across a reload, gone at sign-out.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Drafts } from '../../public/js/drafts.js';

function memoryStorage() {
  const data = new Map();
  return { getItem: (k) => (data.has(k) ? data.get(k) : null), setItem: (k, v) => data.set(k, String(v)) };
}

test('a reload finds the drafts of the same user', () => {
  const storage = memoryStorage();
  const before = new Drafts(storage);
  before.forUser('kari');
  before.setMessage('general', 'Halvskrevet');
  before.announcement = { title: 'Strømstans', body: '', priority: 'urgent' };
  const after = new Drafts(storage);
  after.forUser('kari');
  assert.equal(after.message('general'), 'Halvskrevet');
  assert.equal(after.announcement.title, 'Strømstans');
});

test('another user in the same tab starts without them, and sign-out clears them', () => {
  const storage = memoryStorage();
  const drafts = new Drafts(storage);
  drafts.forUser('kari');
  drafts.setMessage('general', 'Privat');
  const next = new Drafts(storage);
  next.forUser('ola');
  assert.equal(next.message('general'), '');
  next.setMessage('general', 'Hei');
  next.clear();
  assert.equal(new Drafts(storage).message('general'), '');
});

test('an empty draft is no draft, and unreadable storage starts empty', () => {
  const storage = memoryStorage();
  const drafts = new Drafts(storage);
  drafts.announcement = { title: '', body: '' };
  assert.equal(drafts.announcement, null);
  storage.setItem('dugnad.drafts', '{broken');
  assert.equal(new Drafts(storage).message('general'), '');
});
