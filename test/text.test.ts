import { describe, expect, it } from '@jest/globals';
import { cut, neutralize, neutralizeDeep, shellQuote } from '../src/model/text.js';

describe('neutralize', () => {
  it('gives, for any text, what replacing every unsafe character and then cutting gives (the plain-text shortcut changes nothing)', () => {
    // The rules as first written, without the shortcut for plain text.
    const control = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
    const bidi = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
    const caret = (ch: string) => {
      const code = ch.charCodeAt(0);
      if (ch === '\n') return '\\n';
      if (ch === '\r') return '\\r';
      if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
      if (code === 0x7f) return '^?';
      return `\\u${code.toString(16).padStart(4, '0')}`;
    };
    const reference = (text: string, max: number) =>
      cut(text.replace(/\t/g, ' '), max).replace(control, caret).replace(bidi, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const alphabet = ['a', 'Z', '9', ' ', '-', 'é', '日', '🚀', '\t', '\n', '\r', '\u001b', '\u0000', '\u007f', '\u0085', '\u009b', '\u061c', '\u200e', '\u202e', '\u2066', '\ufeff', '…'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const length = next() % 40;
      let text = '';
      for (let j = 0; j < length; j++) text += next() % 3 === 0 ? alphabet[next() % alphabet.length] : 'x';
      for (const max of [5, 20, 1000]) expect(neutralize(text, max)).toBe(reference(text, max));
    }
    expect(neutralize(`${'a'.repeat(30)}… [12 more characters cut]`, 10)).toBe(reference(`${'a'.repeat(30)}… [12 more characters cut]`, 10));
  });

  it('turns ANSI colour and cursor sequences into visible text', () => {
    const out = neutralize('\u001b[31mred\u001b[0m \u001b[2J');
    expect(out).not.toContain('\u001b');
    expect(out).toBe('^[[31mred^[[0m ^[[2J');
  });

  it('defuses OSC sequences such as terminal title changes and hyperlinks', () => {
    const out = neutralize('\u001b]0;owned\u0007 \u001b]8;;http://x\u001b\\link');
    expect(out).not.toMatch(/[\u0000-\u001f]/);
  });

  it('shows carriage returns, backspaces and newlines instead of obeying them', () => {
    expect(neutralize('ok\rFAKE')).toBe('ok\\rFAKE');
    expect(neutralize('abc\b\b\bxyz')).toBe('abc^H^H^Hxyz');
    expect(neutralize('a\nb')).toBe('a\\nb');
  });

  it('escapes C1 controls and bidirectional overrides', () => {
    const out = neutralize('\u009b31m \u202eevil\u202c \u2066x\u2069');
    expect(out).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain('\\u202e');
  });

  it('cuts very long lines with a marker', () => {
    const out = neutralize('x'.repeat(100_000), 1000);
    expect(out.length).toBeLessThan(1100);
    expect(out).toMatch(/99000 more characters cut/);
  });

  it('counts every cut character when text cut before is cut again', () => {
    const once = cut('y'.repeat(100_000), 2000);
    expect(once).toMatch(/98000 more characters cut\]$/);
    expect(neutralize(once, 1000)).toBe(`${'y'.repeat(1000)}… [99000 more characters cut]`);
  });

  it('keeps plain text and tabs readable', () => {
    expect(neutralize('plain text: ok')).toBe('plain text: ok');
    expect(neutralize('a\tb')).toBe('a b');
  });

  it('walks objects and arrays', () => {
    expect(neutralizeDeep({ a: ['\u001b[1m'], b: 3, c: null })).toEqual({ a: ['^[[1m'], b: 3, c: null });
  });
});

describe('shellQuote', () => {
  it('leaves Kubernetes names alone and quotes anything else', () => {
    expect(shellQuote('web-7d9f8c6b5-abcde')).toBe('web-7d9f8c6b5-abcde');
    expect(shellQuote("it's $(bad)")).toBe(`'it'\\''s $(bad)'`);
  });
});
