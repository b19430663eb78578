import type { RuleContext, Severity } from './finding.js';

/**
 * What a user may tune (the config file, --disable): which rules run, the severity a rule's
 * diagnoses get, the thresholds rules read, and which pods and namespaces a sweep leaves out.
 * Rules stay pure: they read thresholds from their RuleContext, never from a file.
 */

/** Numbers rules compare against. */
export interface Thresholds {
  /** frequent-restarts: restartCount from which a running container counts as restarting often. */
  restartCount: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({ restartCount: 5 });

/** Pods and namespaces a sweep leaves out, as globs (`*` any run of characters, `?` one character). */
export interface Exclusions {
  /** Namespaces left out of sweeps that span namespaces (-A, or a replayed file of several). */
  namespaces: readonly string[];
  /** Pod names left out of namespace sweeps. */
  pods: readonly string[];
}

export interface Settings {
  /** Rule ids that do not run. */
  disable: readonly string[];
  /** The severity a rule's diagnoses get, whatever the rule or the folding said. */
  severity: Readonly<Record<string, Severity>>;
  thresholds: Readonly<Thresholds>;
  exclude: Readonly<Exclusions>;
}

/** Settings given in part (tests, callers that only disable a rule); the rest takes the defaults. */
export interface SettingsInput {
  disable?: readonly string[];
  severity?: Readonly<Record<string, Severity>>;
  thresholds?: Partial<Thresholds>;
  exclude?: Partial<Exclusions>;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  disable: [],
  severity: {},
  thresholds: DEFAULT_THRESHOLDS,
  exclude: { namespaces: [], pods: [] },
});

/** Complete settings from a partial input. */
export function resolveSettings(input: SettingsInput = {}): Settings {
  return {
    disable: [...(input.disable ?? [])],
    severity: { ...(input.severity ?? {}) },
    thresholds: { ...DEFAULT_THRESHOLDS, ...(input.thresholds ?? {}) },
    exclude: { namespaces: [...(input.exclude?.namespaces ?? [])], pods: [...(input.exclude?.pods ?? [])] },
  };
}

/** The thresholds a rule runs with: the context's, else the defaults. */
export function thresholdsOf(context: Pick<RuleContext, 'settings'>): Readonly<Thresholds> {
  return context.settings?.thresholds ?? DEFAULT_THRESHOLDS;
}

/** A glob (`*`, `?`; everything else literal) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

/** A predicate: does a name match any of these globs? */
export function globMatcher(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  const patterns = globs.map(globToRegExp);
  return (name) => patterns.some((pattern) => pattern.test(name));
}
