import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ApiServer } from './api-server.js';

/**
 * An exec credential plugin for tests: a small Node script (run as `node SCRIPT`, the way a
 * kubeconfig names kubelogin or aws-iam-authenticator) that prints what it is told and exits with
 * the code it is told, and a kubeconfig whose user runs it.
 */

export interface ExecPluginBehaviour {
  /** What the plugin prints on stdout (an ExecCredential, or anything else). */
  stdout?: string;
  stderr?: string;
  exitCode?: number;
}

/** The ExecCredential a working plugin prints for this token. */
export function execCredential(token: string): string {
  return JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });
}

/** Write the plugin script as DIR/NAME.cjs and return its path. */
export function writeExecPlugin(dir: string, name: string, behaviour: ExecPluginBehaviour): string {
  const file = path.join(dir, `${name}.cjs`);
  writeFileSync(
    file,
    [
      `const stdout = ${JSON.stringify(behaviour.stdout ?? '')};`,
      `const stderr = ${JSON.stringify(behaviour.stderr ?? '')};`,
      'if (stdout) process.stdout.write(stdout);',
      'if (stderr) process.stderr.write(stderr);',
      `process.exitCode = ${behaviour.exitCode ?? 0};`,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * A copy of the server's kubeconfig (its cluster, CA and contexts) with a user `kdiag-exec` whose
 * credentials come from `node SCRIPT`, and a current context `kdiag-exec` using it.
 */
export function writeExecKubeconfig(server: ApiServer, file: string, script: string): string {
  const config = yaml.load(readFileSync(server.kubeconfigPath, 'utf8')) as {
    users: unknown[];
    contexts: { name: string; context: { cluster: string; namespace?: string } }[];
    'current-context': string;
  };
  const base = config.contexts.find((c) => c.name === 'kdiag-token')!;
  config.users.push({
    name: 'kdiag-exec',
    user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'node', args: [script], interactiveMode: 'Never' } },
  });
  config.contexts.push({ name: 'kdiag-exec', context: { ...base.context, user: 'kdiag-exec' } as { cluster: string; namespace?: string } });
  config['current-context'] = 'kdiag-exec';
  writeFileSync(file, yaml.dump(config), { mode: 0o600 });
  return file;
}
