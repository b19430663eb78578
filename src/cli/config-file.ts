import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { UsageError } from '../model/errors.js';
import type { Severity } from '../model/finding.js';
import { SEVERITIES } from '../model/finding.js';
import type { Settings, Thresholds } from '../model/settings.js';
import { DEFAULT_THRESHOLDS, resolveSettings } from '../model/settings.js';
import { nearNames } from '../snapshot/select.js';

/**
 * The config file of `kdiag pod` and `kdiag namespace` (YAML or JSON):
 *
 *   disable: [exit-code-143, node-unschedulable]      # rule ids that do not run
 *   severity: { frequent-restarts: info }              # a rule's severity: critical, warning or info
 *   thresholds: { restartCount: 10 }                    # frequent-restarts (default 5)
 *   exclude:
 *     namespaces: [kube-system]                         # left out of sweeps that span namespaces (-A)
 *     pods: ["canary-*"]                                # pod names (globs) left out of namespace sweeps
 *
 * Anything else (an unknown key or rule id, a bad severity, a value of the wrong type) is a usage
 * error (exit 2) in one line that names the key, with the near names when there are some.
 */

const TOP_KEYS = ['disable', 'severity', 'thresholds', 'exclude'] as const;
const EXCLUDE_KEYS = ['namespaces', 'pods'] as const;
const THRESHOLD_KEYS = Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[];

/** Where the config file is looked for when --config is not given: $XDG_CONFIG_HOME/kdiag/config.yaml, else ~/.config/kdiag/config.yaml. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and is ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'kdiag', 'config.yaml');
}

type Raw = Record<string, unknown>;
const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/** What a wrong value is, for messages: "a list", "the number 3", "the text \"x\"". */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'number' ? 'the number' : 'the value'} ${String(value)}`;
}

/** "unknown rule "x"; did you mean …? (kdiag rules lists them)": an id that is not in `ruleIds`. */
function unknownRule(id: string, ruleIds: readonly string[]): string {
  const near = nearNames(id, ruleIds, 3);
  return `unknown rule ${JSON.stringify(id)}${near.length ? `; did you mean ${near.join(', ')}?` : ''} (kdiag rules lists them)`;
}

/** Parses and checks one config text; `source` names it in messages. */
class Checker {
  constructor(
    private readonly source: string,
    private readonly ruleIds: readonly string[],
  ) {}

  fail(key: string, message: string): never {
    throw new UsageError(`config ${this.source}: ${key}: ${message}`);
  }

  /** Refuse keys outside `known`, suggesting the nearest. */
  keys(where: string, value: Raw, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const near = nearNames(key, known, 3);
      const name = where ? `${where}.${key}` : key;
      this.fail(name, `unknown key${near.length ? `; did you mean ${near.join(', ')}?` : ''} (known: ${known.join(', ')})`);
    }
  }

  mapping(key: string, value: unknown): Raw {
    if (!isObj(value)) this.fail(key, `must be a mapping (key: value), not ${describe(value)}`);
    return value;
  }

  strings(key: string, value: unknown): string[] {
    if (!Array.isArray(value)) this.fail(key, `must be a list, not ${describe(value)}`);
    return value.map((item, i) => {
      if (typeof item !== 'string' || item.trim() === '') this.fail(`${key}[${i}]`, `must be a non-empty text, not ${describe(item)}`);
      return item.trim();
    });
  }

  ruleId(key: string, id: string): string {
    if (this.ruleIds.includes(id)) return id;
    this.fail(key, unknownRule(id, this.ruleIds));
  }

  settings(document: unknown): Settings {
    if (document === null || document === undefined) return resolveSettings();
    if (!isObj(document)) throw new UsageError(`config ${this.source}: must be a mapping of ${TOP_KEYS.join(', ')}, not ${describe(document)}`);
    this.keys('', document, TOP_KEYS);

    const disable = document.disable === undefined ? [] : this.strings('disable', document.disable).map((id, i) => this.ruleId(`disable[${i}]`, id));

    const severity: Record<string, Severity> = {};
    if (document.severity !== undefined) {
      for (const [id, value] of Object.entries(this.mapping('severity', document.severity))) {
        const key = `severity.${id}`;
        this.ruleId(key, id);
        if (typeof value !== 'string' || !(SEVERITIES as readonly string[]).includes(value)) {
          this.fail(key, `must be ${SEVERITIES.join(', ').replace(/, (\w+)$/, ' or $1')}, not ${describe(value)}`);
        }
        severity[id] = value as Severity;
      }
    }

    const thresholds: Partial<Thresholds> = {};
    if (document.thresholds !== undefined) {
      const given = this.mapping('thresholds', document.thresholds);
      this.keys('thresholds', given, THRESHOLD_KEYS);
      for (const key of THRESHOLD_KEYS) {
        const value = given[key];
        if (value === undefined) continue;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
          this.fail(`thresholds.${key}`, `must be a whole number from 1 to 1000000, not ${describe(value)}`);
        }
        thresholds[key] = value;
      }
    }

    const exclude = { namespaces: [] as string[], pods: [] as string[] };
    if (document.exclude !== undefined) {
      const given = this.mapping('exclude', document.exclude);
      this.keys('exclude', given, EXCLUDE_KEYS);
      for (const key of EXCLUDE_KEYS) if (given[key] !== undefined) exclude[key] = this.strings(`exclude.${key}`, given[key]);
    }

    return resolveSettings({ disable, severity, thresholds, exclude });
  }
}

/** Settings from the text of a config file (YAML or JSON). */
export function parseConfig(text: string, source: string, ruleIds: readonly string[]): Settings {
  let document: unknown;
  try {
    // The core schema: plain YAML 1.2 values (no dates, no !!js types); JSON is YAML.
    document = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: source });
  } catch (error) {
    const reason = error instanceof yaml.YAMLException ? `${error.reason}${error.mark ? ` (line ${error.mark.line + 1}, column ${error.mark.column + 1})` : ''}` : String(error);
    throw new UsageError(`config ${source}: not valid YAML or JSON: ${reason}`);
  }
  return new Checker(source, ruleIds).settings(document);
}

/**
 * The settings for this run: --config FILE (which must exist), else the default file when there is
 * one, else the defaults; --disable ids are added to the file's list. The rule ids are asked for
 * only when there is something to check against them (loading the rules takes a while).
 */
export async function loadSettings(
  options: { config?: string; disable?: string[] | string },
  ruleIds: () => Promise<readonly string[]> | readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ settings: Settings; file: string | null }> {
  const explicit = options.config !== undefined;
  if (explicit && options.config === '') throw new UsageError('--config needs a file name');
  const file = explicit ? options.config! : defaultConfigPath(env);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) text = undefined;
    else if (code === 'ENOENT') throw new UsageError(`config file ${file} not found`);
    else if (code === 'EISDIR') throw new UsageError(`config ${file} is a directory, not a file`);
    else throw new UsageError(`cannot read config ${file}: ${(error as Error).message}`);
  }
  if (text === undefined && options.disable === undefined) return { settings: resolveSettings(), file: null };
  const ids = await ruleIds();
  const settings = text === undefined ? resolveSettings() : parseConfig(text, file, ids);
  const fromFlag = parseDisableFlag(options.disable, ids);
  const disable = [...new Set([...settings.disable, ...fromFlag])];
  return { settings: { ...settings, disable }, file: text === undefined ? null : file };
}

/** Rule ids from --disable (repeated, and/or comma-separated). */
export function parseDisableFlag(values: string[] | string | undefined, ruleIds: readonly string[]): string[] {
  if (values === undefined) return [];
  const ids: string[] = [];
  for (const value of Array.isArray(values) ? values : [values]) {
    const parts = String(value)
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    if (parts.length === 0) throw new UsageError('--disable needs rule ids (kdiag rules lists them)');
    for (const id of parts) {
      if (!ruleIds.includes(id)) throw new UsageError(`--disable: ${unknownRule(id, ruleIds)}`);
      ids.push(id);
    }
  }
  return ids;
}
