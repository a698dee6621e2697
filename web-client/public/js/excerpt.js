// A search hit's excerpt as pieces of text, the found words marked (protocol.md,
// "search": `excerpt` with `excerpt_marks`, [start, end] pairs in UTF-16 code units).
// The view makes a text node of each piece and a <mark> of each marked one, so no HTML
// in a message can ever run. No DOM here: tested under Node (web-client/tests/unit).

/**
 * [{text, mark}] covering `excerpt` exactly once, in order. A pair that is not two
 * whole numbers, runs past the text, is empty, or goes back over an earlier one is
 * skipped (the text stays, unmarked): a hub's mistake cannot lose or repeat words.
 */
export function excerptPieces(excerpt, marks) {
  const text = typeof excerpt === 'string' ? excerpt : '';
  const pieces = [];
  let at = 0;
  for (const pair of Array.isArray(marks) ? marks : []) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [start, end] = pair;
    if (!Number.isInteger(start) || !Number.isInteger(end)) continue;
    if (start < at || end <= start || end > text.length) continue;
    if (start > at) pieces.push({ text: text.slice(at, start), mark: false });
    pieces.push({ text: text.slice(start, end), mark: true });
    at = end;
  }
  if (at < text.length || pieces.length === 0) pieces.push({ text: text.slice(at), mark: false });
  return pieces;
}
