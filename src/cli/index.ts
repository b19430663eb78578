import type { Argv, FallbackCompletionFunction } from 'yargs';
import { EXIT, KdiagError, UsageError } from '../model/errors.js';
import { neutralize } from '../model/text.js';
import { VERSION } from '../model/version.js';
import type { GlobalArgs } from './args.js';
import { DIAGNOSE_DEFAULTS, DIAGNOSE_OUTPUTS, FAIL_ON } from './args.js';
import { answerWithoutParser, helpWidth } from './fast.js';

/**
 * The thin top floor: parse flags, load the one command asked for (lazily, so `--help` and
 * `explain` never load the Kubernetes client), and turn typed errors into one line and an exit code.
 */

const EPILOG = `Exit codes:
  0    nothing at or above --fail-on
  1    diagnoses at or above --fail-on (default: critical)
  2    usage or input error: bad flag, kubeconfig, unknown context, unreadable snapshot, not found
  3    cluster unreachable, unauthorized (401), timed out, or failing (5xx) to give the pods
  4    internal error (a bug in kdiag)
  130  interrupted (Ctrl-C)

kdiag only reads (GET) from the API server. It prints kubectl commands; it never runs them.`;

/**
 * `-o, --output`, declared per command: the formats differ (only `rules` writes Markdown), and a
 * global option's choices cannot be narrowed or widened for one command.
 */
function outputOption<T, F extends string>(y: Argv<T>, formats: readonly [F, ...F[]]) {
  return y.option('output', { alias: 'o', choices: formats, default: formats[0], describe: 'Output format' });
}

function clusterOptions<T>(y: Argv<T>) {
  return y
    .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace (default: the kubeconfig context\'s namespace)' })
    .option('context', { type: 'string', describe: 'kubeconfig context to use' })
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)' })
    .option('request-timeout', { type: 'string', default: DIAGNOSE_DEFAULTS.requestTimeout, describe: 'Bound on each API request (e.g. 10s, 1m; 0 = none)' })
    .option('logs', { type: 'boolean', default: DIAGNOSE_DEFAULTS.logs, describe: 'Read the previous log tail of crashed containers (--no-logs to skip)' })
    .option('tail', { type: 'number', default: DIAGNOSE_DEFAULTS.tail, describe: 'Log lines to read per crashed container' });
}

function diagnoseOptions<T>(y: Argv<T>) {
  return outputOption(clusterOptions(y), DIAGNOSE_OUTPUTS)
    .option('snapshot', { type: 'string', describe: 'Replay a recorded snapshot or kubectl -o json|yaml output instead of reading a cluster ("-" = stdin)' })
    .option('fail-on', { choices: FAIL_ON, default: DIAGNOSE_DEFAULTS.failOn, describe: 'Exit 1 when a diagnosis is at or above this severity' })
    .option('verbose', { type: 'boolean', default: DIAGNOSE_DEFAULTS.verbose, describe: 'List every affected pod' })
    .option('config', { type: 'string', describe: 'Config file: disabled rules, severities, thresholds, exclusions (default: $XDG_CONFIG_HOME/kdiag/config.yaml or ~/.config/kdiag/config.yaml, when it exists)' })
    .option('disable', { type: 'string', describe: 'Rule ids not to run, comma-separated or repeated; added to the config file\'s list' })
    .option('watch', { alias: 'w', type: 'boolean', describe: 'Keep watching (list + watch, read-only) and print what changes, until nothing is at or above --fail-on (exit 0) or --timeout (exit 1)' })
    .option('timeout', { type: 'string', describe: 'How long --watch waits to become healthy (e.g. 90s, 10m; 0 = no limit; default 10m)' });
}

/** Options that may be repeated, their values joined with commas (yargs keeps only the last). */
const REPEATED_LIST_OPTIONS = new Set(['--disable']);

/** Join every `--disable A --disable B,C` into one `--disable=A,B,C` where the first was; nothing after "--" is touched. */
export function joinRepeatedLists(argv: string[]): string[] {
  const out: string[] = [];
  const joined = new Map<string, { at: number; values: string[] }>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!REPEATED_LIST_OPTIONS.has(name)) {
      out.push(arg);
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) value = argv[++i];
    else value = '';
    const seen = joined.get(name);
    if (seen) seen.values.push(value!);
    else {
      joined.set(name, { at: out.length, values: [value!] });
      out.push(name);
    }
  }
  for (const [name, { at, values }] of joined) out[at] = `${name}=${values.join(',')}`;
  return out;
}

/** Options whose value may be "-" (standard input or output). */
const DASH_VALUE_OPTIONS = new Set(['--snapshot', '--output-file', '-f']);

/**
 * yargs reads a lone "-" as a positional argument, not as the value of the option before it, so
 * `--snapshot -` would leave --snapshot empty (and `ns -` would name namespace "-"). Join such
 * pairs into `--snapshot=-` before parsing; nothing after "--" is touched.
 */
export function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (DASH_VALUE_OPTIONS.has(arg) && argv[i + 1] === '-') {
      out.push(`${arg}=-`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Run kdiag with these arguments; resolves to the exit code. Never throws. `scriptName` is the
 * command shown in help and examples (`kubectl kdiag` when run as a kubectl plugin).
 * `withoutParser: false` sends even `--help` and `explain` through yargs (see ./fast.ts).
 */
export async function main(argv: string[], scriptName = 'kdiag', { withoutParser = true }: { withoutParser?: boolean } = {}): Promise<number> {
  let debug = argv.includes('--debug');
  // `kdiag --help` and `kdiag explain TOPIC` in their plain forms: answered without loading yargs.
  try {
    const answered = withoutParser ? await answerWithoutParser(argv, scriptName) : undefined;
    if (answered !== undefined) return answered;
  } catch (error) {
    return reportFailure(error, debug);
  }
  const { default: yargs } = await import('yargs');
  let exitCode: number = EXIT.OK;
  let failure: unknown;
  // Shell completion: the script `kdiag completion` prints runs `kdiag --get-yargs-completions WORD...`
  // on TAB. Then no command runs and nothing goes to stderr; names come from ./completion.js.
  const completing = argv.includes('--get-yargs-completions');
  const completions: Promise<void>[] = [];
  // yargs reports a validation failure through .fail() and then still runs the command's handler
  // when exitProcess is off: a handler must not run once the arguments were refused.
  const unlessFailed =
    <A>(handler: (args: A) => Promise<void>) =>
    async (args: A): Promise<void> => {
      if (failure === undefined && !completing) await handler(args);
    };
  const parser = yargs(joinRepeatedLists(joinDashValues(argv)))
    // The completion script is for the `kdiag` command, also when kubectl-kdiag prints it.
    .scriptName(argv[0] === 'completion' ? 'kdiag' : scriptName)
    // A repeated flag means its last value, as in kubectl (not an array: -n a -n b would read "a,b").
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .usage('kdiag: a doctor for Kubernetes workloads.\n\nUsage: $0 <command> [options]')
    .option('color', { type: 'boolean', describe: 'Colour the text report (default: on a TTY, unless NO_COLOR is set; --no-color to disable)' })
    .option('debug', { type: 'boolean', default: DIAGNOSE_DEFAULTS.debug, describe: 'Print requests, timings and error details on stderr' })
    .command(
      'pod <name>',
      'Diagnose one pod, or every pod of the workload (Deployment, StatefulSet, DaemonSet, Job) of that name',
      (y) =>
        diagnoseOptions(y)
          .positional('name', { type: 'string', demandOption: true, describe: 'Pod name, or workload name' })
          .example('$0 pod web-7d9f8c6b5-abcde -n prod', 'Diagnose one pod')
          .example('$0 pod web -n prod', 'Diagnose every pod of deployment/web')
          .example('$0 pod web --snapshot prod.json', 'Replay a recorded snapshot, no cluster needed'),
      unlessFailed(async (args) => {
        const { runDiagnose } = await import('./commands/diagnose.js');
        exitCode = await runDiagnose({ ...(args as unknown as GlobalArgs), mode: 'pod' });
      }),
    )
    .command(
      ['namespace [ns]', 'ns [ns]'],
      'Sweep a namespace: every pod, grouped by owner, ranked',
      (y) =>
        diagnoseOptions(y)
          .positional('ns', { type: 'string', describe: 'Namespace (default: -n, else the context\'s namespace)' })
          .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'Sweep every namespace (the whole cluster)' })
          .option('selector', { alias: 'l', type: 'string', describe: 'Only pods with these labels, as kubectl -l takes them (app=web, tier in (a,b), !canary)' })
          .example('$0 namespace prod', 'Sweep namespace prod')
          .example('$0 namespace -A', 'Sweep every namespace')
          .example('$0 namespace prod -l app=web', 'Only the pods labelled app=web')
          .example('$0 ns prod --fail-on warning -o json', 'Gate a deploy in CI')
          .example('kubectl get pods,events -n prod -o json | $0 ns --snapshot -', 'Diagnose kubectl output offline'),
      unlessFailed(async (args) => {
        const { runDiagnose } = await import('./commands/diagnose.js');
        exitCode = await runDiagnose({ ...(args as unknown as GlobalArgs), mode: 'namespace' });
      }),
    )
    .command(
      'snapshot [ns]',
      'Record what a namespace sweep reads (pods, nodes, events, owners, log tails) to a file; no secrets or env values',
      (y) =>
        clusterOptions(y)
          .positional('ns', { type: 'string', describe: 'Namespace (default: -n, else the context\'s namespace)' })
          .option('output-file', { alias: 'f', type: 'string', describe: 'Where to write the snapshot ("-" = stdout)', demandOption: true })
          .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing file' })
          .example('$0 snapshot prod --output-file prod.json', 'Record namespace prod')
          .example('$0 namespace --snapshot prod.json', 'Replay it later, anywhere'),
      unlessFailed(async (args) => {
        const { runSnapshot } = await import('./commands/snapshot.js');
        exitCode = await runSnapshot(args as unknown as GlobalArgs);
      }),
    )
    .command(
      'explain <topic>',
      'Explain an exit code (0-255), a reason (CrashLoopBackOff, OOMKilled, ...) or a rule id; offline',
      (y) =>
        outputOption(y, ['text', 'json'] as const)
          .positional('topic', { type: 'string', demandOption: true, describe: 'Exit code, reason, signal or rule id' })
          .example('$0 explain 137', 'SIGKILL: OOM kill or a liveness-probe kill?')
          .example('$0 explain CrashLoopBackOff', 'What the reason means and what to do')
          .example('$0 explain oom-killed', 'How the rule detects it'),
      unlessFailed(async (args) => {
        const { runExplain } = await import('./commands/explain.js');
        exitCode = await runExplain(String(args.topic), args.output as 'text' | 'json');
      }),
    )
    .command(
      'rules',
      'List every diagnosis rule (id, severity, title)',
      (y) =>
        outputOption(y, ['text', 'json', 'markdown'] as const)
          .example('$0 rules -o json', 'The catalog as JSON')
          .example('$0 rules -o markdown', 'The catalog as Markdown (docs/rules.md)'),
      unlessFailed(async (args) => {
        const { runRules } = await import('./commands/rules.js');
        exitCode = runRules(args.output);
      }),
    )
    .completion('completion', 'Print the bash or zsh completion script (kdiag completion >> ~/.bashrc)', ((_current, _parsed, defaults, done) => {
      const words = argv.slice(argv.indexOf('--get-yargs-completions') + 1);
      completions.push(import('./completion.js').then(({ complete }) => complete(words, defaults, done)));
    }) satisfies FallbackCompletionFunction)
    .demandCommand(1, 'name a command: pod, namespace, snapshot, explain or rules')
    .recommendCommands()
    .strict()
    .epilog(EPILOG)
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .wrap(helpWidth())
    .exitProcess(false)
    .fail((message, error) => {
      // yargs messages span lines ("Invalid values:\n  Argument: ..."): one line, with the way to help.
      failure = error ?? new UsageError(`${(message ?? 'invalid arguments').replace(/\s*\n\s*/g, ' ')} (see kdiag --help)`);
    });

  // Once a command's handler has started, yargs renders the whole help text to keep it should the
  // command fail and show it (30-40 ms here, while the first request waits). kdiag never shows
  // help for a failure (.fail above makes it one line), so that rendering is skipped.
  const usage = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;

  try {
    const parsed = await parser.parseAsync();
    debug = Boolean(parsed.debug);
  } catch (error) {
    failure ??= error;
  }
  if (completing) {
    // yargs asks again from inside a command's options (a completion may add the next one), and
    // refuses the half-typed words: wait for the candidates, print no error.
    for (let next = completions.shift(); next; next = completions.shift()) await next.catch(() => undefined);
    return EXIT.OK;
  }
  if (failure !== undefined) return reportFailure(failure, debug);
  return exitCode;
}

/** One line on stderr (more with --debug) and the error's exit code. */
function reportFailure(error: unknown, debug: boolean): number {
  if (error instanceof KdiagError) {
    // Messages can quote names from a snapshot file or the cluster: untrusted text.
    process.stderr.write(`kdiag: ${neutralize(error.message)}\n`);
    if (debug && error.detail) process.stderr.write(`${error.detail}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kdiag: internal error: ${neutralize(message.split('\n')[0] ?? '')} (run with --debug for details)\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT.INTERNAL;
}
