import { EXIT, UsageError } from '../../model/errors.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { Engine } from '../../engine/index.js';
import type { Report } from '../../model/report.js';
import type { TextOptions } from '../../report/text.js';
import type { Settings } from '../../model/settings.js';
import { globMatcher } from '../../model/settings.js';
import { neutralize } from '../../model/text.js';
import { Roster } from '../../model/roster.js';
import type { LabelMatch, LeaveOut } from '../../snapshot/select.js';
import type { LabelSelector } from '../../snapshot/selector.js';
import { matchesSelector, parseSelector } from '../../snapshot/selector.js';
import { loadSettings } from '../config-file.js';
import type { GlobalArgs } from '../args.js';
import { readLive, sweepLive } from '../live.js';

/** The namespace a replayed `kdiag pod NAME` means when -n is absent. */
function replayNamespace(snapshot: Snapshot, name: string): string {
  const holding = new Set(snapshot.pods.filter((pod) => pod.metadata.name === name).map((pod) => pod.metadata.namespace ?? 'default'));
  if (holding.size === 1) return [...holding][0]!;
  if (snapshot.scope.namespace) return snapshot.scope.namespace;
  const all = new Set(snapshot.pods.map((pod) => pod.metadata.namespace ?? 'default'));
  return all.size === 1 ? [...all][0]! : 'default';
}

/** Read a recorded snapshot (or kubectl output) and cut it to the scope asked for (-l is the engine's). */
async function replay(args: GlobalArgs): Promise<Snapshot> {
  const [{ readSnapshotFile }, { narrow, narrowNamespace, podNotFound, selectPods }] = await Promise.all([import('../../snapshot/file.js'), import('../../snapshot/select.js')]);
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

/** The pods -l selects, as a test for the engine (see EngineOptions.select). */
function labelMatch(selector: LabelSelector | undefined): LabelMatch | undefined {
  return selector ? (labels) => matchesSelector(selector, labels) : undefined;
}

/**
 * What a namespace sweep leaves out, as the config file says: pods by name, and namespaces when the
 * sweep spans several (-A, or a replayed file of several); the engine cuts each namespace as it
 * comes. `kdiag pod NAME` diagnoses what it names.
 */
function leaveOutOf(settings: Settings, mode: GlobalArgs['mode'], scope: Snapshot['scope']): LeaveOut | undefined {
  const { namespaces, pods } = settings.exclude;
  const byNamespace = scope.kind === 'Cluster' && namespaces.length > 0;
  if (mode !== 'namespace' || (pods.length === 0 && !byNamespace)) return undefined;
  const podOut = globMatcher(pods);
  return { pod: pods.length > 0 ? (pod) => podOut(pod.metadata.name ?? '') : undefined, namespace: byNamespace ? globMatcher(namespaces) : undefined };
}

/** Whether a sweep goes namespace by namespace without holding the cluster: a live `namespace -A`. */
function sweepsByNamespace(args: GlobalArgs): boolean {
  return args.mode === 'namespace' && !args.snapshot && args.allNamespaces === true;
}

/** What was read, for --debug. */
function countsText(read: { pods: number; events: number; nodes: number; owners: number; logs: number; eventsLeftOut?: number }): string {
  const left = read.eventsLeftOut ? ` (and ${read.eventsLeftOut} Normal events about quiet pods, left unparsed)` : '';
  return `${read.pods} pods, ${read.events} events${left}, ${read.nodes} nodes, ${read.owners} owners, ${read.logs} log tails`;
}

/** Whether the text report should be coloured: --color/--no-color, else a TTY without NO_COLOR. */
export function useColor(args: GlobalArgs): boolean {
  if (args.color !== undefined) return args.color;
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

/** How the text report is drawn: coloured as useColor says, wrapped to the terminal (at most 120). */
export function textOptions(args: GlobalArgs): TextOptions {
  return { color: useColor(args), width: Math.min(process.stdout.columns || 100, 120), verbose: args.verbose ?? false };
}

/** What a rule that throws leaves: a line on stderr with --debug, nothing otherwise (the others run on). */
export function ruleErrorReporter(args: GlobalArgs): (id: string, error: unknown) => void {
  return (id, error) => {
    if (args.debug) process.stderr.write(`kdiag: rule ${id} failed on this snapshot: ${error instanceof Error ? error.stack : String(error)}\n`);
  };
}

/** The report as text, in the output format asked for. */
type Render = (report: Report, roster: Roster | undefined) => string;

/** The renderer of the output format asked for, loaded on its own. */
async function loadRenderer(args: GlobalArgs): Promise<Render> {
  switch (args.output) {
    case 'json': {
      const { renderJson } = await import('../../report/json.js');
      return (report) => renderJson(report);
    }
    case 'markdown': {
      const { renderMarkdown } = await import('../../report/markdown.js');
      return (report) => renderMarkdown(report, { verbose: args.verbose ?? false });
    }
    case 'junit': {
      const { renderJunit } = await import('../../report/junit.js');
      return (report, roster) => renderJunit(report, roster!, { failOn: args.failOn });
    }
    default: {
      const { renderText } = await import('../../report/text.js');
      return (report) => renderText(report, textOptions(args));
    }
  }
}

/** `kdiag pod` and `kdiag namespace`: read, diagnose, print, and say whether to fail. */
export async function runDiagnose(args: GlobalArgs): Promise<number> {
  if (!Number.isInteger(args.tail) || args.tail < 1 || args.tail > 10_000) throw new UsageError(`--tail ${args.tail} must be a whole number from 1 to 10000`);
  if (args.mode === 'pod' && !args.name) throw new UsageError('give a pod or workload name: kdiag pod NAME');
  if (args.allNamespaces && (args.ns !== undefined || args.namespace !== undefined)) {
    throw new UsageError(`-A/--all-namespaces sweeps every namespace: give it without a namespace (not with ${args.ns !== undefined ? `"${args.ns}"` : `-n ${args.namespace}`})`);
  }
  const selector = args.selector !== undefined ? parseSelector(args.selector) : undefined;
  const loadRules = async () => (await import('../../../rules/index.js')).rules;
  // The rules, the engine and the renderer: loaded once; for a live read of a namespace or a pod,
  // while the first answers are on the way (not before the first requests leave). A sweep of every
  // namespace needs them before it starts.
  let loading: Promise<[Awaited<ReturnType<typeof loadRules>>, typeof import('../../engine/index.js'), Render]> | undefined;
  const loadTools = () => (loading ??= Promise.all([loadRules(), import('../../engine/index.js'), loadRenderer(args)]));
  const { settings, file } = await loadSettings({ config: args.config, disable: args.disable }, async () => (await loadRules()).map((rule) => rule.id));
  if (args.debug && file) process.stderr.write(`kdiag: settings from ${neutralize(file)}\n`);
  if (args.watch || args.timeout !== undefined) {
    const { checkWatchArgs, runWatch } = await import('./watch.js');
    const timeoutMs = checkWatchArgs(args);
    return runWatch(args, { rules: await loadRules(), settings, select: labelMatch(selector), leaveOut: (scope) => leaveOutOf(settings, args.mode, scope) }, timeoutMs);
  }
  const started = performance.now();
  const onRuleError = ruleErrorReporter(args);
  let report: Report;
  let counts: string;
  /** The pods diagnosed and their workloads, for the JUnit report's testcases. */
  const roster = args.output === 'junit' ? new Roster() : undefined;
  /** When reading ended, where it is apart from diagnosing. */
  let readAt: number | undefined;
  const select = labelMatch(selector);
  if (sweepsByNamespace(args)) {
    // Every namespace, diagnosed as each one comes in and then let go of: the cluster is never held.
    const [rules, { Engine: EngineOf }] = await loadTools();
    let engine: Engine | undefined;
    const read = await sweepLive(args, (base) => {
      const made = new EngineOf(base, rules, { settings, onRuleError, select, leaveOut: leaveOutOf(settings, args.mode, base.scope), roster });
      engine = made;
      return (part) => made.add(part);
    }, selector);
    report = engine!.finish();
    counts = `${countsText(read)}${read.late ? ` (${read.late} listed out of namespace order)` : ''}, namespace by namespace`;
  } else {
    const snapshot = args.snapshot ? await replay(args) : await readLive(args, undefined, selector, loadTools, true);
    const [rules, { diagnose }] = await loadTools();
    readAt = performance.now();
    report = diagnose(snapshot, rules, { settings, onRuleError, select, leaveOut: leaveOutOf(settings, args.mode, snapshot.scope), roster });
    const { pods, events, nodes, owners, logs } = snapshot;
    const eventsLeftOut = args.debug && !args.snapshot ? (await import('../../kube/fetch.js')).eventsLeftOut(snapshot) : 0;
    counts = countsText({ pods: pods.length, events: events.length, eventsLeftOut, nodes: nodes.length, owners: owners.length, logs: logs.length });
  }
  const diagnosed = performance.now();
  const [, { failsAt }, render] = await loadTools();
  const text = render(report, roster);
  if (args.debug) {
    const ms = (from: number, to: number) => `${Math.round(to - from)} ms`;
    const done = performance.now();
    const took = readAt === undefined ? `read and diagnosed in ${ms(started, diagnosed)}` : `${args.snapshot ? 'replayed' : 'read'} in ${ms(started, readAt)}, diagnosed in ${ms(readAt, diagnosed)}`;
    process.stderr.write(`kdiag: ${args.snapshot ? 'replayed' : 'read'} ${counts}; ${took}, wrote the report in ${ms(diagnosed, done)} (${ms(0, done)} since start)\n`);
  }
  process.stdout.write(text);
  return failsAt(report, args.failOn) ? EXIT.FINDINGS : EXIT.OK;
}
