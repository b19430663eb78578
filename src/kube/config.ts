import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ConfigOptions, LoadedConfig } from './kubeconfig.js';
import { loadKubeConfigWith } from './kubeconfig.js';

export type { ConfigOptions, LoadedConfig } from './kubeconfig.js';

/**
 * Load the kubeconfig (see loadKubeConfigWith) with client-node's KubeConfig as imported: the
 * synchronous form, for tests and library use. The CLI loads the class through ./client.ts, which
 * leaves client-node's generated API client unloaded.
 */
export function loadKubeConfig(options: ConfigOptions = {}, env: NodeJS.ProcessEnv = process.env, inClusterRoot = ''): LoadedConfig {
  return loadKubeConfigWith(KubeConfig, options, env, inClusterRoot);
}
