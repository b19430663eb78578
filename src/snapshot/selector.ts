import { UsageError } from '../model/errors.js';

/**
 * Label selectors as kubectl takes them (`-l`): comma-joined requirements, all of which must hold.
 *
 *   a=b  a==b   the label a is b
 *   a!=b        a is not b (or the pod has no label a)
 *   a in (x,y)  a is x or y
 *   a notin (x) a is not x (or the pod has no label a)
 *   a           the pod has a label a
 *   !a          the pod has no label a
 *
 * Keys and values are checked as the API server checks them. The parsed selector is sent to the API
 * in its canonical form (`text`) and applied locally, the same way, when a recorded file is replayed.
 */

export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' };

export interface LabelSelector {
  requirements: Requirement[];
  /** The canonical text: what goes to the API server as labelSelector. */
  text: string;
}

type Token = { kind: 'id'; text: string } | { kind: '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '<' | '>' | 'end' };

const SYMBOLS = ['==', '!=', '=', '!', '(', ')', ',', '<', '>'] as const;

function lex(text: string, fail: (why: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (symbol) {
      tokens.push({ kind: symbol });
      i += symbol.length;
      continue;
    }
    let end = i;
    while (end < text.length && !/[\s=!(),<>]/.test(text[end]!)) end++;
    if (end === i) fail(`unexpected ${JSON.stringify(ch)}`);
    tokens.push({ kind: 'id', text: text.slice(i, end) });
    i = end;
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const PREFIX = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkKey(key: string, fail: (why: string) => never): string {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !PREFIX.test(prefix))) {
    fail(`${JSON.stringify(key)} is not a valid label key: the prefix before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.')`);
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    fail(`${JSON.stringify(key)} is not a valid label key: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
  }
  return key;
}

function checkValue(value: string, fail: (why: string) => never): string {
  if (value !== '' && (value.length > 63 || !NAME.test(value))) {
    fail(`${JSON.stringify(value)} is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
  }
  return value;
}

function show(token: Token): string {
  return token.kind === 'id' ? JSON.stringify(token.text) : token.kind === 'end' ? 'the end' : `'${token.kind}'`;
}

/** Parse a selector; an invalid one is a usage error (exit 2) that quotes it and says what is wrong. */
export function parseSelector(input: string, flag = '-l'): LabelSelector {
  const fail: (why: string) => never = (why) => {
    throw new UsageError(`${flag} ${JSON.stringify(input)}: ${why}`);
  };
  if (input.trim() === '') fail('give a label selector, e.g. app=web or "tier in (web,api)"');
  const tokens = lex(input, fail);
  let at = 0;
  const peek = () => tokens[at]!;
  const next = () => tokens[at++]!;
  const requirements: Requirement[] = [];

  for (;;) {
    const first = next();
    if (first.kind === '!') {
      const key = next();
      if (key.kind !== 'id') fail(`expected a label key after '!', found ${show(key)}`);
      requirements.push({ key: checkKey(key.text, fail), op: '!' });
    } else if (first.kind === 'id') {
      const key = checkKey(first.text, fail);
      const op = peek();
      if (op.kind === ',' || op.kind === 'end') requirements.push({ key, op: 'exists' });
      else if (op.kind === '=' || op.kind === '==' || op.kind === '!=') {
        next();
        const value = peek();
        // An empty value (a=, a!=) is allowed: "a is the empty string".
        if (value.kind === 'id') next();
        else if (value.kind !== ',' && value.kind !== 'end') fail(`expected a value after '${op.kind}', found ${show(value)}`);
        requirements.push({ key, op: op.kind === '!=' ? '!=' : '=', value: checkValue(value.kind === 'id' ? value.text : '', fail) });
      } else if (op.kind === 'id' && (op.text === 'in' || op.text === 'notin')) {
        next();
        const open = next();
        if (open.kind !== '(') fail(`expected '(' after ${op.text}, found ${show(open)}`);
        // The API refuses an empty set, and so does kdiag.
        if (peek().kind === ')') fail(`the ${op.text} list of ${JSON.stringify(key)} is empty`);
        const values: string[] = [];
        for (;;) {
          const value = peek();
          if (value.kind === 'id') {
            values.push(checkValue(value.text, fail));
            next();
          } else if (value.kind === ',' || value.kind === ')') values.push(''); // "(x,)": an empty value
          else fail(`expected a value or ')' in the ${op.text} list, found ${show(value)}`);
          const sep = next();
          if (sep.kind === ')') break;
          if (sep.kind !== ',') fail(`expected ',' or ')' in the ${op.text} list, found ${show(sep)}`);
        }
        requirements.push({ key, op: op.text, values: [...new Set(values)].sort() });
      } else if (op.kind === '<' || op.kind === '>') {
        fail(`the '${op.kind}' comparison is for node selectors; use =, !=, in, notin, or a key alone`);
      } else fail(`expected =, ==, !=, in or notin after ${JSON.stringify(key)}, found ${show(op)}`);
    } else fail(`expected a label key, found ${show(first)}`);

    const sep = next();
    if (sep.kind === 'end') break;
    if (sep.kind !== ',') fail(`expected ',' between requirements, found ${show(sep)}`);
    if (peek().kind === 'end') fail('a requirement is missing after the last \',\'');
  }
  return { requirements, text: requirements.map(format).join(',') };
}

function format(r: Requirement): string {
  switch (r.op) {
    case '=':
    case '!=':
      return `${r.key}${r.op}${r.value}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.op} (${r.values.join(',')})`;
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
  }
}

/** Whether labels satisfy every requirement (missing labels as the API server treats them). */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  return selector.requirements.every((r) => {
    switch (r.op) {
      case '=':
        return has(r.key) && labels![r.key] === r.value;
      case '!=':
        return !has(r.key) || labels![r.key] !== r.value;
      case 'in':
        return has(r.key) && r.values.includes(labels![r.key]!);
      case 'notin':
        return !has(r.key) || !r.values.includes(labels![r.key]!);
      case 'exists':
        return has(r.key);
      case '!':
        return !has(r.key);
    }
  });
}
