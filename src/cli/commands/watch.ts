import kleur from 'kleur';
import { diagnose, failsAt } from '../../engine/index.js';
import { EXIT, UsageError } from '../../model/errors.js';
import type { Rule, Severity } from '../../model/finding.js';
import type { Report } from '../../model/report.js';
import type { Settings } from '../../model/settings.js';
import type { Snapshot } from '../../model/snapshot.js';
import { neutralize } from '../../model/text.js';
import { changeJson, diffReports, renderChanges, stamp } from '../../report/changes.js';
import type { TextOptions } from '../../report/text.js';
import { affectedLine, paint, renderText } from '../../report/text.js';
import type { GlobalArgs } from '../args.js';
import { parseDuration } from '../duration.js';
import { connectLive, startSpinner } from '../live.js';

/**
 * `kdiag pod|namespace --watch`: diagnose, then follow the cluster (list + watch, GET only) and
 * print what changes (diagnoses that appeared, changed severity or were resolved) until nothing is
 * at or above --fail-on (exit 0) or --timeout passes (exit 1, with what still fails). Ctrl-C exits
 * 130. Text, or with -o json one JSON object per line (README, "Watching a rollout").
 */

/** What turns a snapshot into a report, as `kdiag pod|namespace` does it (rules, settings, exclusions, -l). */
export interface Pipeline {
  rules: readonly Rule[];
  settings: Settings;
  /** The snapshot as the one-shot command would diagnose it: cut to -l, without the excluded pods. */
  adjust: (snapshot: Snapshot) => Snapshot;
}

const DEFAULT_TIMEOUT = '10m';

/** The flags --watch cannot go with, as a one-line usage error; and --timeout without --watch. */
export function checkWatchArgs(args: GlobalArgs): void {
  if (!args.watch) {
    if (args.timeout !== undefined) throw new UsageError('--timeout bounds --watch: give it with --watch');
    return;
  }
  if (args.snapshot !== undefined) throw new UsageError('--watch follows a live cluster: it cannot replay --snapshot');
  if (args.output !== 'text' && args.output !== 'json') throw new UsageError(`--watch prints changes as text or JSON lines (-o json), not -o ${args.output}`);
  parseDuration(args.timeout ?? DEFAULT_TIMEOUT, '--timeout');
}

function counts(report: Report): string {
  const { critical, warning, info } = report.summary;
  return `${critical} critical · ${warning} warning · ${info} info`;
}

/** At or above --fail-on. */
function failing(report: Report, failOn: Severity | 'never'): Report['diagnoses'] {
  return report.diagnoses.filter((d) => failsAt({ ...report, diagnoses: [d] }, failOn));
}

export async function runWatch(args: GlobalArgs, pipeline: Pipeline): Promise<number> {
  checkWatchArgs(args);
  const timeoutText = args.timeout ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeoutText, '--timeout');
  const purpose = args.mode ?? 'namespace';
  const json = args.output === 'json';
  const color = args.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  const text: TextOptions = { color, width: Math.min(process.stdout.columns || 100, 120), verbose: args.verbose ?? false };
  const write = (chunk: string) => process.stdout.write(chunk);
  const writeJson = (value: unknown) => write(`${JSON.stringify(value)}\n`);
  const statusLine = (at: Date, line: string) => {
    const previous = kleur.enabled;
    kleur.enabled = color;
    try {
      write(`${kleur.dim(stamp(at))}  ${line}\n`);
    } finally {
      kleur.enabled = previous;
    }
  };
  const toReport = (snapshot: Snapshot): Report =>
    diagnose(pipeline.adjust(snapshot), pipeline.rules, {
      settings: pipeline.settings,
      onRuleError: (id, error) => {
        if (args.debug) process.stderr.write(`kdiag: rule ${id} failed on this snapshot: ${error instanceof Error ? error.stack : String(error)}\n`);
      },
    });

  const [{ loaded, http, options, namespace, what }, { ClusterWatch }] = await Promise.all([connectLive(args, purpose), import('../../kube/watch.js')]);
  const watch = new ClusterWatch(
    http,
    { namespace, name: purpose === 'pod' ? args.name : undefined, context: loaded.context },
    { fetch: options, onDebug: args.debug ? (line) => process.stderr.write(`kdiag: ${line}\n`) : undefined },
  );
  const spinner = await startSpinner(`Reading ${what} from ${loaded.server}`, args);
  const interrupt = () => {
    spinner?.stop();
    watch.stop();
    http.close();
    process.stderr.write('\nkdiag: interrupted\n');
    process.exit(EXIT.INTERRUPTED);
  };
  process.once('SIGINT', interrupt);
  let timer: NodeJS.Timeout | undefined;
  try {
    let first: Snapshot;
    try {
      first = await watch.start();
    } finally {
      spinner?.stop();
    }
    let report = toReport(first);
    if (json) writeJson({ type: 'report', at: stamp(new Date()), report });
    else write(renderText(report, text));

    const healthy = (at: Date): number => {
      if (json) writeJson({ type: 'healthy', at: stamp(at), summary: report.summary });
      else statusLine(at, kleur.green(`healthy: nothing at or above ${args.failOn} (${counts(report)})`));
      return EXIT.OK;
    };
    if (!failsAt(report, args.failOn)) return healthy(new Date());
    // NAME is the user's text: shown as cluster text is.
    const target = neutralize(purpose === 'pod' ? `pod ${what}` : what, 300);
    if (!json) statusLine(new Date(), `watching ${target}: until nothing is at or above ${args.failOn}, ${timeoutMs > 0 ? `for at most ${timeoutText}` : 'with no time limit'} (Ctrl-C to stop)`);

    return await new Promise<number>((resolve, reject) => {
      let done = false;
      const end = (code: number) => {
        if (done) return;
        done = true;
        watch.stop();
        resolve(code);
      };
      watch.onFatal = (error) => {
        if (done) return;
        done = true;
        reject(error);
      };
      watch.onSnapshot = (snapshot) => {
        if (done) return;
        const next = toReport(snapshot);
        const changes = diffReports(report, next);
        report = next;
        const at = new Date();
        if (json) for (const change of changes) writeJson(changeJson(change, at));
        else write(renderChanges(changes, at, text));
        if (!failsAt(report, args.failOn)) end(healthy(at));
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          const at = new Date();
          const still = failing(report, args.failOn);
          if (json) writeJson({ type: 'timeout', at: stamp(at), summary: report.summary, failing: still });
          else {
            statusLine(at, `timed out after ${timeoutText}, still at or above ${args.failOn}: ${counts(report)}`);
            const previous = kleur.enabled;
            kleur.enabled = color;
            try {
              for (const d of still) {
                const where = affectedLine(d, text.verbose ?? false);
                write(`    ${paint(d.severity, d.severity.toUpperCase())}  ${d.title}  ${kleur.dim(`[${d.rule}]`)}${where ? kleur.dim(`  ${where}`) : ''}\n`);
              }
            } finally {
              kleur.enabled = previous;
            }
          }
          end(EXIT.FINDINGS);
        }, timeoutMs);
      }
    });
  } finally {
    if (timer) clearTimeout(timer);
    process.removeListener('SIGINT', interrupt);
    watch.stop();
    http.close();
  }
}
