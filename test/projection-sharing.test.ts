import { describe, expect, it } from '@jest/globals';
import type { Shared } from '../src/snapshot/project.js';
import { projectEvent, projectPod } from '../src/snapshot/project.js';

/**
 * A projection given a Shared pool holds identical parts of many objects once (the replicas of a
 * workload share containers, labels and owner): the same object, and the same JSON as without it.
 */

function replica(name: string, nodeName: string): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'prod', uid: `uid-${name}`, labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8c6b5', uid: 'rs-uid', controller: true }] },
    spec: {
      nodeName,
      containers: [{ name: 'web', image: 'web:1.2', env: [{ name: 'MODE', value: 'prod-secret-value' }], resources: { limits: { memory: '256Mi' } }, livenessProbe: { httpGet: { path: '/healthz', port: 8080 } } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
    },
    status: { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: { startedAt: '2026-11-25T09:00:00Z' } } }] },
  };
}

describe('projection with a Shared pool', () => {
  it('shares the identical parts of two replicas and projects them as without it', () => {
    const pool: Shared = new Map();
    const [a, b] = [projectPod(replica('web-1', 'node-a'), pool)!, projectPod(replica('web-2', 'node-b'), pool)!];
    expect(b.spec.containers).toBe(a.spec.containers);
    expect(b.spec.tolerations).toBe(a.spec.tolerations);
    expect(b.metadata.labels).toBe(a.metadata.labels);
    expect(b.metadata.ownerReferences).toBe(a.metadata.ownerReferences);
    expect(b.metadata.name).toBe('web-2');
    expect(b.spec.nodeName).toBe('node-b');
    for (const [name, node, pod] of [['web-1', 'node-a', a], ['web-2', 'node-b', b]] as const) {
      expect(JSON.stringify(pod)).toBe(JSON.stringify(projectPod(replica(name, node))));
    }
    // Env values are never kept, shared or not.
    expect(JSON.stringify(a)).not.toContain('prod-secret-value');
  });

  it('keeps parts that differ apart', () => {
    const pool: Shared = new Map();
    const other = replica('api-1', 'node-a');
    (other.spec as { containers: { image: string }[] }).containers[0]!.image = 'api:3.0';
    const [a, b] = [projectPod(replica('web-1', 'node-a'), pool)!, projectPod(other, pool)!];
    expect(b.spec.containers).not.toBe(a.spec.containers);
    expect(b.spec.containers[0]!.image).toBe('api:3.0');
    expect(a.spec.containers[0]!.image).toBe('web:1.2');
  });

  it('shares parts that come back after others (A, B, A), and tells apart parts that differ deep down', () => {
    const pool: Shared = new Map();
    const withProbePort = (name: string, port: number) => {
      const raw = replica(name, 'node-a');
      (raw.spec as { containers: { livenessProbe: { httpGet: { port: number } } }[] }).containers[0]!.livenessProbe.httpGet.port = port;
      return raw;
    };
    const a1 = projectPod(withProbePort('web-1', 8080), pool)!;
    const b = projectPod(withProbePort('web-2', 9090), pool)!;
    const a2 = projectPod(withProbePort('web-3', 8080), pool)!;
    expect(b.spec.containers).not.toBe(a1.spec.containers);
    expect(b.spec.containers[0]!.livenessProbe?.httpGet?.port).toBe(9090);
    expect(a2.spec.containers).toBe(a1.spec.containers);
    expect(a2.spec.containers[0]!.livenessProbe?.httpGet?.port).toBe(8080);
  });

  it('shares an event source between the events of one node', () => {
    const pool: Shared = new Map();
    const event = (name: string) => ({ metadata: { name, namespace: 'prod' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'prod' }, reason: 'Pulled', source: { component: 'kubelet', host: 'node-a' } });
    const [a, b] = [projectEvent(event('e1'), pool)!, projectEvent(event('e2'), pool)!];
    expect(b.source).toBe(a.source);
    expect(b.metadata.name).toBe('e2');
  });
});
