import { describe, expect, it } from '@jest/globals';
import { describeExitCode, ruleForExitCode, signalOf } from '../src/model/exit-codes.js';

describe('exit code decoding', () => {
  it('answers every code from 0 to 255 with a meaning and a rule', () => {
    for (let code = 0; code <= 255; code++) {
      const info = describeExitCode(code);
      expect(info.code).toBe(code);
      expect(info.meaning.length).toBeGreaterThan(20);
      expect(info.rule).toMatch(/^exit-code-/);
    }
  });

  it.each([
    [130, 'SIGINT'],
    [131, 'SIGQUIT'],
    [134, 'SIGABRT'],
    [137, 'SIGKILL'],
    [139, 'SIGSEGV'],
    [141, 'SIGPIPE'],
    [143, 'SIGTERM'],
  ])('decodes %i as 128+N with the signal name %s', (code, name) => {
    const info = describeExitCode(code);
    expect(info.signal).toBe(name);
    expect(info.signalNumber).toBe(code - 128);
    expect(info.meaning).toContain(`128+${code - 128}`);
  });

  it('never calls 128 a successful termination', () => {
    const info = describeExitCode(128);
    expect(info.signal).toBeUndefined();
    expect(info.meaning).toMatch(/not success/i);
    expect(info.meaning).toMatch(/StartError/);
  });

  it('says exit 1 is an application error, not a segmentation fault', () => {
    expect(describeExitCode(1).name).toBe('application error');
    expect(describeExitCode(139).signal).toBe('SIGSEGV');
  });

  it('treats codes above 192 as the program\'s own value, not a signal', () => {
    expect(signalOf(200)).toBeUndefined();
    expect(describeExitCode(200).meaning).toMatch(/no signal above 64/);
  });

  it('explains 255 as exit(-1) or a runtime failure', () => {
    expect(describeExitCode(255).meaning).toMatch(/exit\(-1\)/);
  });

  it('wraps values outside 0-255 modulo 256 as the kernel does', () => {
    expect(describeExitCode(256 + 137).code).toBe(137);
    expect(describeExitCode(-1).code).toBe(255);
  });

  it('routes each code to its rule', () => {
    expect(ruleForExitCode(0)).toBe('exit-code-0');
    expect(ruleForExitCode(137)).toBe('exit-code-137');
    expect(ruleForExitCode(130)).toBe('exit-code-signal');
    expect(ruleForExitCode(254)).toBe('exit-code-signal');
    expect(ruleForExitCode(42)).toBe('exit-code-app');
  });
});
