import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { UsageError } from '../model/errors.js';

/** Where the kubeconfig comes from (flags first, then KUBECONFIG, ~/.kube/config, in-cluster). */
export interface ConfigOptions {
  kubeconfig?: string;
  context?: string;
}

/** A loaded kubeconfig with the context kdiag will use. */
export interface LoadedConfig {
  kc: KubeConfig;
  context: string;
  /** The context's namespace, `default` when it names none. */
  namespace: string;
  server: string;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The first line of an error, without stack or the file's content. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

function loadFile(kc: KubeConfig, file: string): void {
  if (!existsSync(file)) throw new UsageError(`kubeconfig ${file}: no such file`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`kubeconfig ${file} cannot be read: ${reason(error)}`);
  }
  try {
    kc.loadFromString(text);
  } catch (error) {
    throw new UsageError(`kubeconfig ${file} is not a valid kubeconfig: ${reason(error)}`);
  }
  // Relative certificate-authority / client-certificate paths are relative to the file, as in kubectl.
  kc.makePathsAbsolute(path.dirname(path.resolve(file)));
}

/**
 * Load the kubeconfig the way kubectl does: --kubeconfig, else every file in KUBECONFIG merged
 * (the first file's current-context wins), else ~/.kube/config, else the in-cluster service account
 * (its files under `inClusterRoot` + /var/run/secrets/kubernetes.io/serviceaccount). The KubeConfig
 * class is given: ./config.ts passes client-node's as imported, the CLI the one ./client.ts loads.
 */
export function loadKubeConfigWith(
  KubeConfigClass: typeof KubeConfig,
  options: ConfigOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  inClusterRoot = '',
): LoadedConfig {
  const kc = new KubeConfigClass();
  const files = options.kubeconfig ? [options.kubeconfig] : (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (files.length === 0) {
    const home = env.HOME ?? homedir();
    const fallback = path.join(home, '.kube', 'config');
    if (existsSync(fallback)) files.push(fallback);
  }
  if (files.length > 0) {
    const existing = options.kubeconfig ? files : files.filter((file) => existsSync(file));
    if (existing.length === 0) throw new UsageError(`kubeconfig ${files.join(path.delimiter)}: no such file`);
    loadFile(kc, existing[0]!);
    for (const file of existing.slice(1)) {
      const next = new KubeConfigClass();
      loadFile(next, file);
      mergeKubectlStyle(kc, next);
    }
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(inClusterRoot + IN_CLUSTER_TOKEN)) {
    // The pod's service account: token, CA and namespace under /var/run/secrets (the root is
    // movable for tests); the server from KUBERNETES_SERVICE_HOST/PORT.
    kc.loadFromCluster(inClusterRoot);
  } else {
    throw new UsageError('no kubeconfig: KUBECONFIG is unset, ~/.kube/config does not exist and kdiag is not running in a cluster (use --kubeconfig or --snapshot)');
  }

  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(`context "${options.context}" not found in the kubeconfig${known.length ? ` (known: ${known.slice(0, 10).join(', ')})` : ''}`);
    }
    kc.setCurrentContext(options.context);
  }
  const contextName = kc.getCurrentContext();
  const context = contextName ? kc.getContextObject(contextName) : null;
  if (!context) {
    throw new UsageError(contextName ? `current context "${contextName}" is not defined in the kubeconfig` : 'the kubeconfig has no current-context: pass --context');
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UsageError(`context "${contextName}" names cluster "${context.cluster}", which the kubeconfig does not define`);
  if (!kc.getCurrentUser() && context.user) throw new UsageError(`context "${contextName}" names user "${context.user}", which the kubeconfig does not define`);
  return { kc, context: contextName, namespace: context.namespace?.trim() || 'default', server: cluster.server };
}

/**
 * Merge a later KUBECONFIG file into the first the way kubectl does: the first file to define a
 * cluster, user or context name wins; the current-context comes from the first file that sets one.
 */
function mergeKubectlStyle(into: KubeConfig, from: KubeConfig): void {
  const has = <T extends { name: string }>(list: T[], name: string) => list.some((item) => item.name === name);
  for (const cluster of from.clusters) if (!has(into.clusters, cluster.name)) into.clusters.push(cluster);
  for (const user of from.users) if (!has(into.users, user.name)) into.users.push(user);
  for (const context of from.contexts) if (!has(into.contexts, context.name)) into.contexts.push(context);
  if (!into.currentContext && from.currentContext) into.currentContext = from.currentContext;
}
