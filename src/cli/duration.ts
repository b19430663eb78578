import { UsageError } from '../model/errors.js';

/** Parse a kubectl-style duration (500ms, 30s, 1m, 1h, or bare seconds) into milliseconds; 0 = none. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} "${text}" is not a duration (use e.g. 500ms, 30s, 1m)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 's' ? value * 1000 : unit === 'm' ? value * 60_000 : value * 3_600_000;
  return Math.round(ms);
}
