/**
 * metadata.managedFields out of an API answer's JSON text, before it is parsed. kdiag never reads
 * them, yet they are about a quarter of a pod's JSON and, being trees of small objects
 * (`"f:spec":{"f:containers":{...}}`), the costliest part of it to parse and to collect. The text
 * is walked as JSON (strings with their escapes, nested brackets) from each `"managedFields":[`
 * to the bracket that closes it; a key can only appear unescaped outside strings, so only the
 * managedFields keys of objects go, with their values. A text it cannot follow is left whole.
 */

const KEY = '"managedFields":[';

/** The index just past the array or object that opens at `at`, or -1 when the text ends first. */
function endOfValue(text: string, at: number): number {
  let depth = 0;
  const n = text.length;
  for (let i = at; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // To the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return -1;
        let b = i - 1;
        while (text.charCodeAt(b) === 0x5c) b--;
        if ((i - 1 - b) % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
    } else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The JSON text without its managedFields keys (the same text when it has none). */
export function withoutManagedFields(text: string): string {
  let at = text.indexOf(KEY);
  if (at < 0) return text;
  const kept: string[] = [];
  let from = 0;
  while (at >= 0) {
    const end = endOfValue(text, at + KEY.length - 1);
    if (end < 0) return text;
    const before = text.charCodeAt(at - 1);
    const after = text.charCodeAt(end);
    if (before === 0x2c) {
      // `,"managedFields":[...]`: the comma before it goes too.
      kept.push(text.slice(from, at - 1));
      from = end;
    } else if (before === 0x7b && (after === 0x2c || after === 0x7d)) {
      // The object's first key: the comma after it goes.
      kept.push(text.slice(from, at));
      from = after === 0x2c ? end + 1 : end;
    }
    // Else it is not laid out as the API server writes it (spaces around it): it stays.
    at = text.indexOf(KEY, end);
  }
  kept.push(text.slice(from));
  return kept.join('');
}
