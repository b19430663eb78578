import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import yaml from 'js-yaml';
import { declaredReadsOnly, rbacOf, READS } from '../src/kube/fetch.js';
import type { KubeHttp } from '../src/kube/http.js';
import type { Report } from '../src/model/report.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';
import { closedPort, onPath, runProgram } from './support/run.js';

/**
 * Fleet use (docs/fleet.md): the in-cluster CronJob of docs/fleet/cronjob.yaml. Its ClusterRole
 * grants exactly what the fetcher reads (READS, which the fetcher checks every request against),
 * only get and list; the binding, service account and CronJob fit together; and the container's
 * command, run here against the loopback API server, prints one kdiag/v1 report on one line and
 * sends only requests the ClusterRole allows.
 */

// Parsed manifests: read loosely, checked by the expectations.
type Raw = Record<string, any>;

const DOCS = yaml.loadAll(readFileSync(path.join(ROOT, 'docs', 'fleet', 'cronjob.yaml'), 'utf8')) as Raw[];
const only = (kind: string): Raw => {
  const found = DOCS.filter((doc) => doc.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

/** "group resource verb" for every grant of a ClusterRole. */
function grants(role: Raw): string[] {
  const out = new Set<string>();
  for (const rule of role.rules as Raw[]) {
    for (const group of rule.apiGroups as string[]) for (const resource of rule.resources as string[]) for (const verb of rule.verbs as string[]) out.add(`${group} ${resource} ${verb}`);
  }
  return [...out].sort();
}

/** The same for what kdiag declares it reads, watches left out (the CronJob does not watch). */
function declared(): string[] {
  const out: string[] = [];
  for (const [group, resources] of Object.entries(READS)) {
    for (const [resource, verbs] of Object.entries(resources)) for (const verb of verbs) if (verb !== 'watch') out.push(`${group} ${resource} ${verb}`);
  }
  return out.sort();
}

describe('READS: what the fetcher reads, as RBAC names it', () => {
  it('names each request path kdiag sends', () => {
    expect(rbacOf('/api/v1/namespaces/prod/pods')).toEqual({ group: '', resource: 'pods', verb: 'list' });
    expect(rbacOf('/api/v1/pods')).toEqual({ group: '', resource: 'pods', verb: 'list' });
    expect(rbacOf('/api/v1/namespaces/prod/pods/web-1')).toEqual({ group: '', resource: 'pods', verb: 'get' });
    expect(rbacOf('/api/v1/namespaces/prod/pods/web-1/log', { previous: true })).toEqual({ group: '', resource: 'pods/log', verb: 'get' });
    expect(rbacOf('/api/v1/namespaces/prod/events', { watch: true })).toEqual({ group: '', resource: 'events', verb: 'watch' });
    expect(rbacOf('/api/v1/nodes/node-a')).toEqual({ group: '', resource: 'nodes', verb: 'get' });
    expect(rbacOf('/api/v1/namespaces/prod')).toEqual({ group: '', resource: 'namespaces', verb: 'get' });
    expect(rbacOf('/api/v1/namespaces')).toEqual({ group: '', resource: 'namespaces', verb: 'list' });
    expect(rbacOf('/apis/apps/v1/namespaces/prod/deployments/web')).toEqual({ group: 'apps', resource: 'deployments', verb: 'get' });
    expect(rbacOf('/apis/batch/v1/cronjobs')).toEqual({ group: 'batch', resource: 'cronjobs', verb: 'list' });
    expect(rbacOf('/version')).toBeUndefined();
    expect(rbacOf('/api/v1/namespaces/prod/pods/a/b/c')).toBeUndefined();
  });

  it('is checked before every request: a read it does not declare is refused before it is sent', async () => {
    const getJson = jest.fn(async (_path: string, _query?: Record<string, unknown>) => ({}));
    const getText = jest.fn(async (_path: string, _query?: Record<string, unknown>) => '');
    const http = declaredReadsOnly({ getJson, getText, server: 'https://x' } as unknown as KubeHttp);
    await expect(http.getJson('/api/v1/namespaces/prod/secrets')).rejects.toThrow('not a read kdiag declares');
    await expect(http.getText('/api/v1/namespaces/prod/configmaps/x')).rejects.toThrow('not a read kdiag declares');
    await expect(http.getJson('/api/v1/nodes', { watch: true })).rejects.toThrow('not a read kdiag declares');
    expect(getJson).not.toHaveBeenCalled();
    expect(getText).not.toHaveBeenCalled();
    await http.getJson('/api/v1/namespaces/prod/pods', { limit: 5 });
    expect(getJson).toHaveBeenCalledWith('/api/v1/namespaces/prod/pods', { limit: 5 });
    expect(http.server).toBe('https://x');
  });

  it('declares only reads', () => {
    for (const resources of Object.values(READS)) for (const verbs of Object.values(resources)) for (const verb of verbs) expect(['get', 'list', 'watch']).toContain(verb);
  });
});

describe('docs/fleet/cronjob.yaml', () => {
  it('holds a namespace, a service account, a ClusterRole, its binding and the CronJob', () => {
    expect(DOCS.map((doc) => doc.kind)).toEqual(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'CronJob']);
  });

  it("grants exactly the fetcher's reads (group, resource, verb): get and list, nothing else", () => {
    const role = only('ClusterRole');
    expect(grants(role)).toEqual(declared());
    for (const rule of role.rules as Raw[]) {
      expect(rule.verbs.every((verb: string) => verb === 'get' || verb === 'list')).toBe(true);
      expect(JSON.stringify(rule)).not.toContain('*');
      expect(Object.keys(rule).sort()).toEqual(['apiGroups', 'resources', 'verbs']);
    }
  });

  it('binds that ClusterRole to the service account the CronJob runs as', () => {
    const account = only('ServiceAccount');
    const binding = only('ClusterRoleBinding');
    const cronJob = only('CronJob');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: only('ClusterRole').metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace }]);
    expect(cronJob.metadata.namespace).toBe(account.metadata.namespace);
    expect(only('Namespace').metadata.name).toBe(account.metadata.namespace);
    expect(cronJob.spec.jobTemplate.spec.template.spec.serviceAccountName).toBe(account.metadata.name);
  });

  it('runs kdiag namespace --all-namespaces -o json, once at a time, locked down', () => {
    const cronJob = only('CronJob');
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    const [container] = pod.containers as Raw[];
    expect(container!.args.join(' ')).toMatch(/\bkdiag namespace --all-namespaces -o json\b/);
    expect(container!.args.join(' ')).not.toContain('--watch');
    expect(container!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });
});

(onPath('bash') ? describe : describe.skip)("the CronJob's command, run against the loopback API server", () => {
  let server: ApiServer;
  let temp: string;
  let script: { command: string[]; args: string[] };

  beforeAll(async () => {
    server = await startApiServer({ fixture: 'test/fixtures/live-world.json' });
    temp = mkdtempSync(path.join(tmpdir(), 'kdiag-fleet-'));
    // The image's PATH: `kdiag` as npm install -g puts it, and node.
    mkdirSync(path.join(temp, 'bin'));
    writeFileSync(path.join(temp, 'bin', 'kdiag'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'kdiag.js')}" "$@"\n`);
    chmodSync(path.join(temp, 'bin', 'kdiag'), 0o755);
    const container = (only('CronJob').spec.jobTemplate.spec.template.spec.containers as Raw[])[0]!;
    script = { command: container.command, args: container.args };
  });
  afterAll(async () => {
    await server?.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  const run = (kubeconfig: string) => {
    const [shell, ...shellArgs] = script.command;
    const env = { PATH: `${path.join(temp, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, HOME: temp, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
    return runProgram(shell === '/bin/bash' ? 'bash' : shell!, [...shellArgs, ...script.args], env, 60_000);
  };

  it('prints one kdiag/v1 report on one line and exits 0, sending only what the ClusterRole grants', async () => {
    const before = server.requests.length;
    const result = await run(server.kubeconfigPath);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const report = JSON.parse(lines[0]!) as Report;
    expect(report).toMatchObject({ apiVersion: 'kdiag/v1', kind: 'Report', scope: { kind: 'Cluster' } });
    expect(report.diagnoses.length).toBeGreaterThan(0);
    const granted = new Set(grants(only('ClusterRole')));
    const sent = server.requests.slice(before);
    expect(sent.length).toBeGreaterThan(5);
    for (const request of sent) {
      expect(request.method).toBe('GET');
      const read = rbacOf(request.path, request.query);
      expect(read && granted.has(`${read.group} ${read.resource} ${read.verb}`) ? 'granted' : `not granted: ${request.path}`).toBe('granted');
    }
  });

  it("fails the Job with kdiag's exit code when kdiag cannot read the cluster, with its one line", async () => {
    const port = await closedPort();
    const result = await run(server.writeKubeconfig({ server: `https://127.0.0.1:${port}`, name: 'closed' }));
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 3, stdout: '' });
    expect(result.stderr).toMatch(/^kdiag: cannot reach the API server at https:\/\/127\.0\.0\.1:\d+: connection refused\n$/);
  });
});
