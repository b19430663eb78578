import kleur from 'kleur';
import { diagnose, failsAt } from '../../engine/index.js';
import { EXIT, UsageError } from '../../model/errors.js';
import type { Rule, Severity } from '../../model/finding.js';
import type { Report } from '../../model/report.js';
import type { Settings } from '../../model/settings.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { LabelMatch, LeaveOut } from '../../snapshot/select.js';
import { neutralize } from '../../model/text.js';
import { changeJson, diffReports, renderChanges } from '../../report/changes.js';
import { affectedLine, paint, renderText, stamp, titleLine, withColor } from '../../report/text.js';
import type { GlobalArgs } from '../args.js';
import { parseDuration } from '../duration.js';
import { connectLive, exitOnInterrupt, startSpinner } from '../live.js';
import { ruleErrorReporter, textOptions } from './diagnose.js';

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
  /** The pods -l selects (the engine keeps them and theirs). */
  select?: LabelMatch;
  /** What the engine leaves out of a snapshot of this scope (the config file's exclusions). */
  leaveOut: (scope: Snapshot['scope']) => LeaveOut | undefined;
}

const DEFAULT_TIMEOUT = '10m';

/**
 * For a command line with --watch or --timeout: the flags --watch cannot go with, and --timeout
 * without --watch, as a one-line usage error; else the --timeout in ms (0: no limit).
 */
export function checkWatchArgs(args: GlobalArgs): number {
  if (!args.watch) throw new UsageError('--timeout bounds --watch: give it with --watch');
  if (args.snapshot !== undefined) throw new UsageError('--watch follows a live cluster: it cannot replay --snapshot');
  if (args.output !== 'text' && args.output !== 'json') throw new UsageError(`--watch prints changes as text or JSON lines (-o json), not -o ${args.output}`);
  return parseDuration(args.timeout ?? DEFAULT_TIMEOUT, '--timeout');
}

function counts(report: Report): string {
  const { critical, warning, info } = report.summary;
  return `${critical} critical · ${warning} warning · ${info} info`;
}

/** At or above --fail-on. */
function failing(report: Report, failOn: Severity | 'never'): Report['diagnoses'] {
  return report.diagnoses.filter((d) => failsAt({ ...report, diagnoses: [d] }, failOn));
}

/** `timeoutMs` is what checkWatchArgs returned for `args`. */
export async function runWatch(args: GlobalArgs, pipeline: Pipeline, timeoutMs: number): Promise<number> {
  const timeoutText = args.timeout ?? DEFAULT_TIMEOUT;
  const purpose = args.mode ?? 'namespace';
  const json = args.output === 'json';
  const text = textOptions(args);
  const write = (chunk: string) => process.stdout.write(chunk);
  const writeJson = (value: unknown) => write(`${JSON.stringify(value)}\n`);
  const statusLine = (at: Date, line: string) => withColor(text.color, () => write(`${kleur.dim(stamp(at))}  ${line}\n`));
  const onRuleError = ruleErrorReporter(args);
  const toReport = (snapshot: Snapshot): Report => {
    return diagnose(snapshot, pipeline.rules, { settings: pipeline.settings, onRuleError, select: pipeline.select, leaveOut: pipeline.leaveOut(snapshot.scope) });
  };

  const [{ loaded, http, options, namespace, what }, { ClusterWatch }] = await Promise.all([connectLive(args, purpose), import('../../kube/watch.js')]);
  const watch = new ClusterWatch(
    http,
    { namespace, name: purpose === 'pod' ? args.name : undefined, context: loaded.context },
    { fetch: options, onDebug: args.debug ? (line) => process.stderr.write(`kdiag: ${line}\n`) : undefined },
  );
  const spinner = await startSpinner(`Reading ${what} from ${loaded.server}`, args);
  const release = exitOnInterrupt(() => {
    spinner?.stop();
    watch.stop();
    http.close();
  });
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
            withColor(text.color, () => {
              for (const d of still) write(`    ${paint(d.severity, d.severity.toUpperCase())}  ${titleLine(d, affectedLine(d, text.verbose ?? false))}\n`);
            });
          }
          end(EXIT.FINDINGS);
        }, timeoutMs);
      }
    });
  } finally {
    if (timer) clearTimeout(timer);
    release();
    watch.stop();
    http.close();
  }
}
