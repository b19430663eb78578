import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { defaultConfigPath, loadSettings, parseConfig, parseDisableFlag } from '../src/cli/config-file.js';
import { joinRepeatedLists } from '../src/cli/index.js';
import { UsageError } from '../src/model/errors.js';
import { DEFAULT_SETTINGS, globMatcher, resolveSettings } from '../src/model/settings.js';
import { readmeConfigExample } from './support/fixtures.js';

/**
 * The config file (YAML or JSON) of `kdiag pod` and `kdiag namespace`, --disable, and where the
 * default file is looked for. Every refusal is a UsageError (exit 2) in one line naming the key.
 */

const IDS = rules.map((rule) => rule.id);
const dir = mkdtempSync(path.join(tmpdir(), 'kdiag-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const at = path.join(dir, name);
  mkdirSync(path.dirname(at), { recursive: true });
  writeFileSync(at, text);
  return at;
}

/** The message of the UsageError `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as UsageError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a UsageError');
}

async function asyncRefusal(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

/** The example README.md documents. */
const EXAMPLE = readmeConfigExample();

describe('parseConfig', () => {
  it('reads the documented example', () => {
    expect(parseConfig(EXAMPLE, 'config.yaml', IDS)).toEqual({
      disable: ['exit-code-143', 'node-unschedulable'],
      severity: { 'frequent-restarts': 'info' },
      thresholds: { restartCount: 10 },
      exclude: { namespaces: ['kube-system'], pods: ['canary-*'] },
    });
  });

  it('reads the same settings from JSON', () => {
    const json = JSON.stringify({
      disable: ['exit-code-143', 'node-unschedulable'],
      severity: { 'frequent-restarts': 'info' },
      thresholds: { restartCount: 10 },
      exclude: { namespaces: ['kube-system'], pods: ['canary-*'] },
    });
    expect(parseConfig(json, 'config.json', IDS)).toEqual(parseConfig(EXAMPLE, 'config.yaml', IDS));
  });

  it('an empty file, a comment-only file and an empty mapping are the defaults', () => {
    for (const text of ['', '# nothing yet\n', '{}', '---\n']) expect(parseConfig(text, 'c.yaml', IDS)).toEqual(DEFAULT_SETTINGS);
  });

  it('every key is optional; what is not given keeps its default', () => {
    expect(parseConfig('thresholds: {}\nexclude: {}\n', 'c.yaml', IDS)).toEqual(resolveSettings());
    expect(parseConfig('exclude: { pods: [a] }', 'c.yaml', IDS).exclude).toEqual({ namespaces: [], pods: ['a'] });
    expect(parseConfig('disable: []', 'c.yaml', IDS).thresholds.restartCount).toBe(5);
  });

  it.each([
    ['unknown top-level key, with the near one', 'thresold: { restartCount: 3 }', /^config c\.yaml: thresold: unknown key; did you mean thresholds\?/],
    ['unknown nested key', 'exclude: { pod: [a] }', /^config c\.yaml: exclude\.pod: unknown key; did you mean pods\?/],
    ['unknown threshold', 'thresholds: { restarts: 3 }', /^config c\.yaml: thresholds\.restarts: unknown key.*\(known: restartCount\)/],
    ['unknown rule in disable, with near ids', 'disable: [oom-kiled]', /^config c\.yaml: disable\[0\]: unknown rule "oom-kiled"; did you mean oom-killed\?/],
    ['unknown rule in severity', 'severity: { exitcode-137: info }', /^config c\.yaml: severity\.exitcode-137: unknown rule "exitcode-137"; did you mean exit-code-137/],
    ['bad severity', 'severity: { oom-killed: high }', /^config c\.yaml: severity\.oom-killed: must be critical, warning or info, not the text "high"/],
    ['severity that is not text', 'severity: { oom-killed: 3 }', /severity\.oom-killed: must be critical, warning or info, not the number 3/],
    ['disable not a list', 'disable: oom-killed', /^config c\.yaml: disable: must be a list, not the text "oom-killed"/],
    ['disable of numbers', 'disable: [1]', /disable\[0\]: must be a non-empty text, not the number 1/],
    ['severity not a mapping', 'severity: [oom-killed]', /^config c\.yaml: severity: must be a mapping \(key: value\), not a list/],
    ['threshold not a number', 'thresholds: { restartCount: ten }', /thresholds\.restartCount: must be a whole number from 1 to 1000000, not the text "ten"/],
    ['threshold a quoted number', 'thresholds: { restartCount: "10" }', /thresholds\.restartCount: must be a whole number/],
    ['threshold zero', 'thresholds: { restartCount: 0 }', /thresholds\.restartCount: must be a whole number from 1/],
    ['threshold fractional', 'thresholds: { restartCount: 2.5 }', /thresholds\.restartCount: must be a whole number/],
    ['exclude not a mapping', 'exclude: [kube-system]', /^config c\.yaml: exclude: must be a mapping/],
    ['exclude.pods not a list', 'exclude: { pods: "canary-*" }', /exclude\.pods: must be a list/],
    ['exclude.namespaces with an empty name', 'exclude: { namespaces: [""] }', /exclude\.namespaces\[0\]: must be a non-empty text/],
    ['a list at the top', '- disable', /^config c\.yaml: must be a mapping of disable, severity, thresholds, exclude, not a list/],
    ['text at the top', 'disable', /must be a mapping of .*, not the text "disable"/],
    ['broken YAML', 'disable: [oom-killed', /^config c\.yaml: not valid YAML or JSON: .*\(line \d+, column \d+\)/],
    ['duplicate keys', 'disable: []\ndisable: []\n', /^config c\.yaml: not valid YAML or JSON: duplicated mapping key/],
    ['broken JSON', '{"disable": ["oom-killed",]', /^config c\.yaml: not valid YAML or JSON/],
  ])('refuses %s', (_, text, message) => {
    expect(refusal(() => parseConfig(text, 'c.yaml', IDS))).toMatch(message);
  });

  it('takes no YAML tags that build objects or dates', () => {
    expect(refusal(() => parseConfig('disable: !!js/function "() => 1"', 'c.yaml', IDS))).toMatch(/not valid YAML or JSON: unknown tag/);
    // A date stays text (and is then not a rule id) rather than becoming a Date.
    expect(refusal(() => parseConfig('disable: [2026-01-01]', 'c.yaml', IDS))).toMatch(/unknown rule "2026-01-01"/);
  });
});

describe('parseDisableFlag', () => {
  it('takes comma-separated and repeated ids, trimmed', () => {
    expect(parseDisableFlag('oom-killed, exit-code-143', IDS)).toEqual(['oom-killed', 'exit-code-143']);
    expect(parseDisableFlag(['oom-killed', 'node-unschedulable'], IDS)).toEqual(['oom-killed', 'node-unschedulable']);
    expect(parseDisableFlag(undefined, IDS)).toEqual([]);
  });

  it('refuses unknown ids with the near ones, and an empty value', () => {
    expect(refusal(() => parseDisableFlag('oom-killed,exit-code-14', IDS))).toMatch(/^--disable: unknown rule "exit-code-14"; did you mean exit-code-143/);
    expect(refusal(() => parseDisableFlag('', IDS))).toBe('--disable needs rule ids (kdiag rules lists them)');
    expect(refusal(() => parseDisableFlag(' , ', IDS))).toMatch(/^--disable needs rule ids/);
  });
});

describe('joinRepeatedLists', () => {
  it('joins every --disable into one, where the first one was', () => {
    expect(joinRepeatedLists(['ns', '--disable', 'a,b', 'prod', '--disable=c', '-o', 'json', '--disable', 'd'])).toEqual(['ns', '--disable=a,b,c,d', 'prod', '-o', 'json']);
    expect(joinRepeatedLists(['ns', '--disable', 'a'])).toEqual(['ns', '--disable=a']);
  });

  it('leaves other arguments, a --disable without a value, and everything after -- as they are', () => {
    expect(joinRepeatedLists(['ns', 'prod', '-o', 'json'])).toEqual(['ns', 'prod', '-o', 'json']);
    expect(joinRepeatedLists(['ns', '--disable', '--verbose'])).toEqual(['ns', '--disable=', '--verbose']);
    expect(joinRepeatedLists(['ns', '--disable', 'a', '--', '--disable', 'b'])).toEqual(['ns', '--disable=a', '--', '--disable', 'b']);
  });
});

describe('defaultConfigPath', () => {
  it('is $XDG_CONFIG_HOME/kdiag/config.yaml, else ~/.config/kdiag/config.yaml', () => {
    expect(defaultConfigPath({ HOME: '/home/me' })).toBe('/home/me/.config/kdiag/config.yaml');
    expect(defaultConfigPath({ HOME: '/home/me', XDG_CONFIG_HOME: '/etc/xdg-me' })).toBe('/etc/xdg-me/kdiag/config.yaml');
    expect(defaultConfigPath({ HOME: '/home/me', XDG_CONFIG_HOME: '' })).toBe('/home/me/.config/kdiag/config.yaml');
    // A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
    expect(defaultConfigPath({ HOME: '/home/me', XDG_CONFIG_HOME: 'relative/dir' })).toBe('/home/me/.config/kdiag/config.yaml');
  });
});

describe('loadSettings', () => {
  const ids = () => IDS;

  it('a missing default file is the defaults, without loading the rules', async () => {
    let asked = false;
    const result = await loadSettings({}, () => ((asked = true), IDS), { HOME: path.join(dir, 'nobody') });
    expect(result).toEqual({ settings: resolveSettings(), file: null });
    expect(asked).toBe(false);
  });

  it('reads the default file from XDG_CONFIG_HOME, and from ~/.config', async () => {
    const xdg = path.join(dir, 'xdg');
    const at = file('xdg/kdiag/config.yaml', 'disable: [oom-killed]\n');
    expect(await loadSettings({}, ids, { HOME: path.join(dir, 'nobody'), XDG_CONFIG_HOME: xdg })).toMatchObject({ file: at, settings: { disable: ['oom-killed'] } });
    const home = path.join(dir, 'home');
    const inHome = file('home/.config/kdiag/config.yaml', 'disable: [node-unschedulable]\n');
    expect(await loadSettings({}, ids, { HOME: home })).toMatchObject({ file: inHome, settings: { disable: ['node-unschedulable'] } });
  });

  it('--config names the file; a missing one is a usage error', async () => {
    const at = file('explicit.json', '{"severity": {"oom-killed": "warning"}}');
    expect((await loadSettings({ config: at }, ids, {})).settings.severity).toEqual({ 'oom-killed': 'warning' });
    expect(await asyncRefusal(() => loadSettings({ config: path.join(dir, 'missing.yaml') }, ids, {}))).toBe(`config file ${path.join(dir, 'missing.yaml')} not found`);
    expect(await asyncRefusal(() => loadSettings({ config: dir }, ids, {}))).toBe(`config ${dir} is a directory, not a file`);
    expect(await asyncRefusal(() => loadSettings({ config: '' }, ids, {}))).toBe('--config needs a file name');
  });

  it('a broken default file is refused too, naming it', async () => {
    const home = path.join(dir, 'broken-home');
    const at = file('broken-home/.config/kdiag/config.yaml', 'disable: [nope]\n');
    expect(await asyncRefusal(() => loadSettings({}, ids, { HOME: home }))).toMatch(new RegExp(`^config ${at.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: disable\\[0\\]: unknown rule "nope"`));
  });

  it('--disable adds to the file\'s list, once each', async () => {
    const at = file('with-disable.yaml', 'disable: [oom-killed, exit-code-143]\n');
    const { settings } = await loadSettings({ config: at, disable: 'exit-code-143,node-unschedulable' }, ids, {});
    expect(settings.disable).toEqual(['oom-killed', 'exit-code-143', 'node-unschedulable']);
    const alone = await loadSettings({ disable: 'oom-killed' }, ids, { HOME: path.join(dir, 'nobody') });
    expect(alone).toEqual({ settings: resolveSettings({ disable: ['oom-killed'] }), file: null });
  });
});

describe('globMatcher', () => {
  it('matches * and ? and takes everything else literally', () => {
    const match = globMatcher(['canary-*', 'job-?', 'a.b']);
    expect(['canary-x', 'canary-', 'job-1', 'a.b'].map(match)).toEqual([true, true, true, true]);
    expect(['canary', 'xcanary-1', 'job-12', 'axb', 'A.B'].map(match)).toEqual([false, false, false, false, false]);
    expect(globMatcher([])('anything')).toBe(false);
    expect(globMatcher(['(x)+[y]'])('(x)+[y]')).toBe(true);
  });
});
