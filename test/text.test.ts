import { describe, expect, it } from '@jest/globals';
import { cut, neutralize, neutralizeDeep, shellQuote } from '../src/model/text.js';

describe('neutralize', () => {
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
