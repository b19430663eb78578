/**
 * Cluster text (event messages, termination messages, log lines, labels) is untrusted: it may carry
 * terminal control sequences that recolour, rewrite or hide what a user sees (CVE-2021-25743 for
 * kubectl). Everything kdiag prints from the cluster goes through `neutralize`.
 */

/** Longest single piece of cluster text kdiag prints before cutting it with a marker. */
export const MAX_TEXT = 1000;

// C0 controls except tab, DEL, and C1 controls (U+0080-U+009F, which some terminals treat as CSI/OSC).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
// Bidirectional overrides and isolates, and other invisible formatting that can reorder what is shown.
const BIDI = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
// Any character neutralize changes: a tab, CONTROL or BIDI.
const UNSAFE = /[\t\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

function caret(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
  if (code === 0x7f) return '^?';
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

const CUT_MARKER = /… \[(\d+) more characters cut\]$/;

/**
 * Cut text longer than `max` characters, ending it with a marker that counts what was cut. Text
 * cut before (log lines are cut when read) keeps one marker with the total count.
 */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const earlier = CUT_MARKER.exec(text);
  const body = earlier ? text.slice(0, earlier.index) : text;
  if (body.length <= max) return text;
  const already = earlier ? Number(earlier[1]) : 0;
  return `${body.slice(0, max)}… [${body.length - max + already} more characters cut]`;
}

/**
 * Make cluster text safe to print on one line: control characters become visible caret or \u
 * notation (ESC becomes ^[, so no escape sequence reaches the terminal), bidi overrides become \u
 * escapes, tabs become spaces, and text longer than `max` characters is cut with a marker.
 */
export function neutralize(text: string, max: number = MAX_TEXT): string {
  // Most cluster text is short and plain: it comes back as it is.
  if (text.length <= max && !UNSAFE.test(text)) return text;
  const out = cut(text.replace(/\t/g, ' '), max);
  return out.replace(CONTROL, caret).replace(BIDI, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Apply `neutralize` to every string in a JSON-like value (objects, arrays), returning a copy. */
export function neutralizeDeep<T>(value: T, max: number = MAX_TEXT): T {
  if (typeof value === 'string') return neutralize(value, max) as T;
  if (Array.isArray(value)) return value.map((item) => neutralizeDeep(item, max)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = neutralizeDeep(v, max);
    return out as T;
  }
  return value;
}

/** A short quote of cluster text for evidence lines: first line only, trimmed. */
export function firstLine(text: string | undefined, max = 300): string {
  if (!text) return '';
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed;
}

/** Quote a word for a POSIX shell when it needs quoting (Kubernetes names never do; labels may). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%^,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Human age of a duration in ms: 45s, 12m, 3h, 2d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}

/**
 * Order two keys made of Kubernetes names (lowercase DNS names, rule ids) and kind names, as sort
 * orders text: by UTF-16 code unit. For such keys this is the order localeCompare gives in English
 * (letters after digits after `-`, `.` and `/`), but the same under every locale (localeCompare
 * follows the user's: Czech puts "ch" after "h"), and without loading the ICU collation data
 * localeCompare needs on first use (about 12 ms on every run).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
