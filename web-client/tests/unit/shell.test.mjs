// The offline shell (public/sw.js) keeps every file the page needs: its list must name
// every file under web-client/public (but sw.js itself), and nothing that is not there.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(PUBLIC, path)];
  });
}

test('the offline shell lists every file of the client', () => {
  const source = readFileSync(join(PUBLIC, 'sw.js'), 'utf8');
  const list = JSON.parse(/const SHELL = (\[[^\]]*\])/.exec(source)[1].replace(/'/g, '"').replace(/,\s*\]/, ']'));
  const expected = files(PUBLIC).filter((f) => f !== 'sw.js').sort();
  assert.deepEqual(list.filter((f) => f !== './').sort(), expected);
});

test('the manifest names icons that exist', () => {
  const manifest = JSON.parse(readFileSync(join(PUBLIC, 'manifest.json'), 'utf8'));
  assert.equal(manifest.display, 'standalone');
  for (const icon of manifest.icons) assert.ok(statSync(join(PUBLIC, icon.src)).isFile(), icon.src);
  assert.ok(manifest.icons.some((i) => i.purpose === 'maskable'));
});

test('sign-in, the API and the socket pass the offline shell untouched (no token is ever cached)', () => {
  const source = readFileSync(join(PUBLIC, 'sw.js'), 'utf8');
  const passThrough = new RegExp(/const PASS_THROUGH = \/(.*)\/;/.exec(source)[1]);
  for (const path of ['/auth/session', '/auth/callback', '/auth/login', '/api/v1/channels', '/ws', '/healthz']) {
    assert.ok(passThrough.test(path), path);
  }
  for (const path of ['/', '/index.html', '/js/app.js', '/signin-failed.html']) assert.ok(!passThrough.test(path), path);
});
