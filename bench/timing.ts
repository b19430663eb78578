import type { BenchServer } from './server.js';

/**
 * Milliseconds from the API server's last answer to the tool's exit: what the tool does once the
 * last byte is in, which no fetch overlaps. Stamps are performance.timeOrigin + performance.now()
 * of the bench process, as the server logs them. A request never answered (answered 0) does not
 * count; with no answer at all, the whole run is after it.
 */
export function afterLastAnswer(log: BenchServer['log'], startedAt: number, endedAt: number): number {
  let last = startedAt;
  for (const entry of log) if (entry.answered > last) last = entry.answered;
  return Math.max(0, endedAt - last);
}

/** A duration as the benchmark's tables print it: seconds from one second up, else milliseconds. */
export function fmtDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
