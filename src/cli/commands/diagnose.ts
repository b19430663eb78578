import { EXIT, UsageError } from '../../model/errors.js';
import type { Snapshot } from '../../model/snapshot.js';
import { diagnose, failsAt } from '../../engine/index.js';
import { renderJson } from '../../report/json.js';
import { renderJunit } from '../../report/junit.js';
import { renderMarkdown } from '../../report/markdown.js';
import { renderText } from '../../report/text.js';
import { readSnapshotFile } from '../../snapshot/file.js';
import { narrow, narrowNamespace, podNotFound, selectPods } from '../../snapshot/select.js';
import type { GlobalArgs } from '../args.js';
import { readLive } from '../live.js';

/** The namespace a replayed `kdiag pod NAME` means when -n is absent. */
function replayNamespace(snapshot: Snapshot, name: string): string {
  const holding = new Set(snapshot.pods.filter((pod) => pod.metadata.name === name).map((pod) => pod.metadata.namespace ?? 'default'));
  if (holding.size === 1) return [...holding][0]!;
  if (snapshot.scope.namespace) return snapshot.scope.namespace;
  const all = new Set(snapshot.pods.map((pod) => pod.metadata.namespace ?? 'default'));
  return all.size === 1 ? [...all][0]! : 'default';
}

/** Read a recorded snapshot (or kubectl output) and cut it to the scope asked for. */
function replay(args: GlobalArgs): Snapshot {
  const snapshot = readSnapshotFile(args.snapshot!);
  if (args.mode === 'pod') {
    const name = args.name!;
    const namespace = args.namespace ?? replayNamespace(snapshot, name);
    const selection = selectPods(snapshot, namespace, name);
    if (!selection) throw podNotFound(snapshot, namespace, name);
    return narrow(snapshot, selection.pods, { kind: 'Pod', namespace, name }, selection.workload);
  }
  const namespace = args.allNamespaces ? null : (args.ns ?? args.namespace ?? snapshot.scope.namespace);
  return narrowNamespace(snapshot, namespace);
}

/** Whether the text report should be coloured: --color/--no-color, else a TTY without NO_COLOR. */
export function useColor(args: GlobalArgs): boolean {
  if (args.color !== undefined) return args.color;
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

/** `kdiag pod` and `kdiag namespace`: read, diagnose, print, and say whether to fail. */
export async function runDiagnose(args: GlobalArgs): Promise<number> {
  if (!Number.isInteger(args.tail) || args.tail < 1 || args.tail > 10_000) throw new UsageError(`--tail ${args.tail} must be a whole number from 1 to 10000`);
  if (args.mode === 'pod' && !args.name) throw new UsageError('give a pod or workload name: kdiag pod NAME');
  if (args.allNamespaces && (args.ns !== undefined || args.namespace !== undefined)) {
    throw new UsageError(`-A/--all-namespaces sweeps every namespace: give it without a namespace (not with ${args.ns !== undefined ? `"${args.ns}"` : `-n ${args.namespace}`})`);
  }
  const snapshot = args.snapshot ? replay(args) : await readLive(args);
  const { rules } = await import('../../../rules/index.js');
  const report = diagnose(snapshot, rules, {
    onRuleError: (id, error) => {
      if (args.debug) process.stderr.write(`kdiag: rule ${id} failed on this snapshot: ${error instanceof Error ? error.stack : String(error)}\n`);
    },
  });
  const text =
    args.output === 'json'
      ? renderJson(report)
      : args.output === 'markdown'
        ? renderMarkdown(report, { verbose: args.verbose ?? false })
        : args.output === 'junit'
          ? renderJunit(report, snapshot, { failOn: args.failOn })
          : renderText(report, { color: useColor(args), width: Math.min(process.stdout.columns || 100, 120), verbose: args.verbose ?? false });
  process.stdout.write(text);
  return failsAt(report, args.failOn) ? EXIT.FINDINGS : EXIT.OK;
}
