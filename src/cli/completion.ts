/**
 * Shell completion of names. `kdiag completion` prints yargs' bash or zsh script; the shell then runs
 * `kdiag --get-yargs-completions kdiag WORD...` on each TAB. yargs completes commands, flags and
 * flag choices; this module adds names: namespaces after -n/--namespace and as the argument of
 * `namespace` (`ns`) and `snapshot`, pods as the argument of `pod`. They come from the --snapshot
 * file when one is typed, else from the kubeconfig's cluster (--kubeconfig, --context) with a short
 * timeout and a single GET. Completion never prints an error: whatever fails gives no names.
 * This module and the Kubernetes client are loaded only when a name is being completed.
 */

/**
 * Flags that take the next word as their value (so it is neither the command nor its argument);
 * a test keeps it in step with the options of src/cli/index.ts.
 */
export const VALUE_FLAGS = new Set([
  '-n',
  '--namespace',
  '--context',
  '--kubeconfig',
  '--snapshot',
  '-o',
  '--output',
  '--fail-on',
  '--request-timeout',
  '--tail',
  '-f',
  '--output-file',
  '--config',
  '-l',
  '--selector',
  '--disable',
  '--timeout',
]);

/** Flags whose value names are read from, by their long name. */
const READ_FLAGS: Record<string, 'namespace' | 'context' | 'kubeconfig' | 'snapshot'> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '--context': 'context',
  '--kubeconfig': 'kubeconfig',
  '--snapshot': 'snapshot',
};

/** A name kdiag will offer: a DNS subdomain, which is every pod and namespace name; nothing a terminal could act on. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Which names the word being completed wants, and where to read them from. */
export interface NameSlot {
  kind: 'namespaces' | 'pods';
  /** The word typed so far. */
  current: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  snapshot?: string;
}

/**
 * The name slot of the last word, from the shell's words (the program name first, the word being
 * completed last, possibly ""); undefined when the word is not a namespace or pod name.
 */
export function nameSlot(words: string[]): NameSlot | undefined {
  if (words.length < 2) return undefined;
  const typed = words.slice(1, -1);
  const current = words[words.length - 1]!;
  const read: Partial<Record<'namespace' | 'context' | 'kubeconfig' | 'snapshot', string>> = {};
  let command: string | undefined;
  let positionals = 0;
  let allNamespaces = false;
  let valueOf: string | undefined;
  for (let i = 0; i < typed.length; i++) {
    const word = typed[i]!;
    if (word === '--') {
      positionals += typed.length - i - 1;
      break;
    }
    if (word.startsWith('-') && word !== '-') {
      const eq = word.indexOf('=');
      const flag = eq > 0 ? word.slice(0, eq) : word;
      if (flag === '-A' || flag === '--all-namespaces') allNamespaces = eq < 0 || word.slice(eq + 1) !== 'false';
      if (eq < 0 && VALUE_FLAGS.has(flag)) {
        if (i + 1 === typed.length) valueOf = flag; // the word being completed is this flag's value
        else if (READ_FLAGS[flag]) read[READ_FLAGS[flag]] = typed[i + 1];
        i++;
      } else if (eq > 0 && READ_FLAGS[flag]) read[READ_FLAGS[flag]] = word.slice(eq + 1);
      continue;
    }
    if (command === undefined) command = word;
    else positionals++;
  }
  const slot = { current, ...read };
  if (valueOf !== undefined) return valueOf === '-n' || valueOf === '--namespace' ? { ...slot, kind: 'namespaces' } : undefined;
  if (current.startsWith('-') || positionals > 0) return undefined;
  if (command === 'pod') return { ...slot, kind: 'pods' };
  if ((command === 'namespace' || command === 'ns' || command === 'snapshot') && !allNamespaces) return { ...slot, kind: 'namespaces' };
  return undefined;
}

function unique(names: Iterable<string | undefined>): string[] {
  return [...new Set([...names].filter((n): n is string => typeof n === 'string'))];
}

/** Names from a snapshot file (not standard input: the shell owns it). */
async function fromSnapshot(slot: NameSlot): Promise<string[]> {
  if (slot.snapshot === '-' || !slot.snapshot) return [];
  const { readSnapshotFile } = await import('../snapshot/file.js');
  const snapshot = readSnapshotFile(slot.snapshot);
  if (slot.kind === 'pods') {
    return unique(snapshot.pods.filter((pod) => slot.namespace === undefined || (pod.metadata.namespace ?? 'default') === slot.namespace).map((pod) => pod.metadata.name));
  }
  return unique([
    snapshot.scope.namespace ?? undefined,
    ...[...snapshot.pods, ...snapshot.events, ...snapshot.owners].map((object) => object.metadata.namespace),
  ]);
}

/** Names from the cluster: one list, bounded by timeoutMs, no retries. */
async function fromCluster(slot: NameSlot, timeoutMs: number): Promise<string[]> {
  const [{ loadKubeConfigClass }, { loadKubeConfigWith }, { KubeHttp }, { listNames }] = await Promise.all([
    import('../kube/client.js'),
    import('../kube/kubeconfig.js'),
    import('../kube/http.js'),
    import('../kube/names.js'),
  ]);
  const loaded = loadKubeConfigWith(await loadKubeConfigClass(), { kubeconfig: slot.kubeconfig, context: slot.context });
  const http = new KubeHttp(loaded.kc, { timeoutMs, retries: 0 });
  try {
    if (slot.kind === 'pods') {
      const namespace = slot.namespace ?? loaded.namespace;
      return NAME.test(namespace) ? await listNames(http, 'pods', namespace) : [];
    }
    // Namespaces may not be listable (RBAC): the context's own namespace is still a good answer.
    return unique([loaded.namespace, ...(await listNames(http, 'namespaces').catch(() => []))]);
  } finally {
    http.close();
  }
}

/**
 * The names to offer for a slot that start with what is typed, sorted; [] when they cannot be had
 * (no kubeconfig, unreachable or refusing cluster, unreadable snapshot, or slower than timeoutMs).
 */
export async function completeNames(slot: NameSlot, timeoutMs = 2000): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs + 500);
    timer.unref();
  });
  try {
    const names = await Promise.race([slot.snapshot ? fromSnapshot(slot) : fromCluster(slot, timeoutMs), late]);
    return unique(names)
      .filter((name) => NAME.test(name) && name.startsWith(slot.current))
      .sort();
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/** yargs' own completion (commands, flags, choices), as the fallback completion function receives it. */
type Defaults = (onCompleted?: (error: Error | null, completions: string[] | undefined) => void) => unknown;

/**
 * Complete the shell's words (the program name first, the word being completed last): names when
 * the word is a namespace or pod name and some can be had, else yargs' candidates. `done` prints.
 */
export async function complete(words: string[], defaults: Defaults, done: (completions: string[]) => unknown): Promise<void> {
  const slot = nameSlot(words);
  const names = slot ? await completeNames(slot) : [];
  if (names.length > 0) done(names);
  else defaults((_error, completions) => done(completions ?? []));
}
