import type { NamespacePart, Snapshot, SweepBase } from '../model/snapshot.js';
import type { SweepCounts } from '../kube/fetch.js';
import type { LabelSelector } from '../snapshot/selector.js';
import { EXIT, UsageError } from '../model/errors.js';
import type { GlobalArgs } from './args.js';
import { parseDuration } from './duration.js';

/** What the spinner needs: ora's start/stop, or nothing when stderr is not a terminal. */
interface Spinner {
  text: string;
  stop(): void;
}

export async function startSpinner(text: string, args: GlobalArgs): Promise<Spinner | undefined> {
  // A terminal that reports no width (a bare pty) would make the spinner redraw without end.
  if (!process.stderr.isTTY || args.debug || !process.stderr.columns) return undefined;
  const { default: ora } = await import('ora');
  return ora({ text, stream: process.stderr, discardStdin: false }).start();
}

/**
 * The kubeconfig loaded, the API client made and the target checked: what a live read (or watch)
 * starts from. `what` names the target for people ("web in prod", "namespace prod").
 */
export async function connectLive(args: GlobalArgs, purpose: 'pod' | 'namespace' = args.mode ?? 'namespace') {
  const timeoutMs = parseDuration(args.requestTimeout, '--request-timeout');
  const [{ loadKubeConfigClass }, { loadKubeConfigWith }, { KubeHttp }, { DEFAULT_FETCH }] = await Promise.all([
    import('../kube/client.js'),
    import('../kube/kubeconfig.js'),
    import('../kube/http.js'),
    import('../kube/fetch.js'),
  ]);
  const loaded = loadKubeConfigWith(await loadKubeConfigClass(), { kubeconfig: args.kubeconfig, context: args.context });
  const http = new KubeHttp(loaded.kc, {
    timeoutMs,
    onRequest: args.debug ? (line) => process.stderr.write(`kdiag: ${line}\n`) : undefined,
  });
  const options = { ...DEFAULT_FETCH, logs: args.logs, tailLines: args.tail };
  // null: every namespace (`namespace -A`), read through the cluster-wide lists.
  const namespace = purpose === 'pod' ? (args.namespace ?? loaded.namespace) : args.allNamespaces ? null : (args.ns ?? args.namespace ?? loaded.namespace);
  // Both go into request paths, where "." and ".." segments would be resolved away (`-n ..` read every namespace).
  if (namespace !== null && (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63)) {
    throw new UsageError(`"${namespace}" is not a valid namespace name (lowercase letters, digits and '-', at most 63)`);
  }
  if (purpose === 'pod' && (args.name === '.' || args.name === '..')) throw new UsageError(`"${args.name}" is not a valid pod or workload name`);
  const what = purpose === 'pod' ? `${args.name} in ${namespace}` : namespace === null ? 'every namespace' : `namespace ${namespace}`;
  return { loaded, http, options, namespace, what };
}

/**
 * Read the cluster through the kubeconfig: load it, then fetch what the command needs with a
 * spinner on stderr (TTY only). Ctrl-C stops the spinner, restores the cursor and exits 130.
 * A label selector (namespace sweeps) goes to the API with the pods list. `meanwhile` is called
 * once the first requests are out (a diagnosis loads its rules and engine then). A `diagnosis`
 * leaves the Normal events about quiet pods unparsed (FetchOptions.leaveQuietEvents).
 */
export async function readLive(args: GlobalArgs, purpose: 'pod' | 'namespace' = args.mode ?? 'namespace', selector?: LabelSelector, meanwhile?: () => unknown, diagnosis = false): Promise<Snapshot> {
  const [{ loaded, http, options: fetchOptions, namespace, what }, { fetchNamespace, fetchPod }] = await Promise.all([connectLive(args, purpose), import('../kube/fetch.js')]);
  // A diagnosis needs no Normal event about a quiet pod; a recording keeps every event.
  const options = { ...fetchOptions, leaveQuietEvents: diagnosis };
  return whileReading(
    args,
    loaded.server,
    what,
    http,
    () => (purpose === 'pod' ? fetchPod(http, namespace!, args.name!, loaded.context, options) : fetchNamespace(http, namespace, loaded.context, options, selector?.text)),
    meanwhile,
  );
}

/**
 * `kdiag namespace -A` namespace by namespace: each namespace goes to the engine `start` makes as
 * soon as every list has moved past it, and is not kept (see sweepAllNamespaces).
 */
export async function sweepLive(args: GlobalArgs, start: (base: SweepBase) => (part: NamespacePart) => void, selector?: LabelSelector): Promise<SweepCounts> {
  const [{ loaded, http, options, what }, { sweepAllNamespaces }] = await Promise.all([connectLive(args, 'namespace'), import('../kube/fetch.js')]);
  return whileReading(args, loaded.server, what, http, () => sweepAllNamespaces(http, loaded.context, options, start, selector?.text));
}

/**
 * Until the returned function is called, Ctrl-C runs `stop` (the spinner, the connections), says
 * so on stderr and exits 130.
 */
export function exitOnInterrupt(stop: () => void): () => void {
  const interrupt = () => {
    stop();
    process.stderr.write('\nkdiag: interrupted\n');
    process.exit(EXIT.INTERRUPTED);
  };
  process.once('SIGINT', interrupt);
  return () => process.removeListener('SIGINT', interrupt);
}

/**
 * Run a read with a spinner on stderr (TTY only); Ctrl-C stops it, restores the cursor and exits
 * 130. `meanwhile` runs once the read has sent its first requests.
 */
async function whileReading<T>(args: GlobalArgs, server: string, what: string, http: { close(): void }, read: () => Promise<T>, meanwhile?: () => unknown): Promise<T> {
  const spinner = await startSpinner(`Reading ${what} from ${server}`, args);
  const release = exitOnInterrupt(() => {
    spinner?.stop();
    http.close();
  });
  try {
    const reading = read();
    // What follows the read (a diagnosis: its rules and engine) loads once the first requests are
    // out, while their answers are on the way, rather than before them or after the reads. A
    // failure to load surfaces where it is awaited.
    if (meanwhile) void Promise.resolve().then(meanwhile).then(undefined, () => undefined);
    return await reading;
  } finally {
    release();
    spinner?.stop();
    http.close();
  }
}
