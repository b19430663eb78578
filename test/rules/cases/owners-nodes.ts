import type { RuleCase } from '../case.js';

const QUIET = 'owners-nodes-quiet-healthy.json';

/** Cases for the failed-create, node-pressure and node-unschedulable rules. */
export const ownerNodeCases: RuleCase[] = [
  // ------------------------------------------------------------------ failed-create
  {
    name: 'a quota refusal is critical on a StatefulSet with no pod and a warning on a ReplicaSet that has 3 of its 4 pods; the old ReplicaSet scaled to 0 is history',
    fixture: 'failed-create-quota.json',
    rule: 'failed-create',
    expect: [
      { object: 'ReplicaSet/prod/api-7d9f8c6b5', severity: 'warning', cause: 'quota' },
      { object: 'StatefulSet/prod/db', severity: 'critical', cause: 'quota' },
    ],
  },
  {
    name: 'a Deployment whose pods all violate the namespace\'s PodSecurity level is pod-security on its ReplicaSet, also when the event is a combined one',
    fixture: 'failed-create-pod-security.json',
    rule: 'failed-create',
    expect: [{ object: 'ReplicaSet/payments/checkout-5b7d9c8f6', severity: 'critical', cause: 'pod-security' }],
  },
  {
    name: 'a Job and a CronJob run whose service accounts do not exist are missing-service-account on each Job',
    fixture: 'failed-create-service-account.json',
    rule: 'failed-create',
    expect: [
      { object: 'Job/prod/builder', severity: 'critical', cause: 'missing-service-account' },
      { object: 'Job/prod/nightly-export-29386080', severity: 'critical', cause: 'missing-service-account' },
    ],
  },
  {
    name: 'a DaemonSet whose pods a fail-closed webhook cannot be called for is webhook',
    fixture: 'failed-create-webhook-unreachable.json',
    rule: 'failed-create',
    expect: [{ object: 'DaemonSet/monitoring/node-exporter', severity: 'critical', cause: 'webhook' }],
  },
  {
    name: 'a ReplicaSet whose pods an admission webhook denies is webhook',
    fixture: 'failed-create-webhook-denied.json',
    rule: 'failed-create',
    expect: [{ object: 'ReplicaSet/monitoring/grafana-6f7d8c9b5', severity: 'critical', cause: 'webhook' }],
  },
  {
    name: 'a memory limit above the LimitRange maximum is limit-range',
    fixture: 'failed-create-limit-range.json',
    rule: 'failed-create',
    expect: [{ object: 'ReplicaSet/batch/worker-6c8d7f9b5', severity: 'critical', cause: 'limit-range' }],
  },
  {
    name: 'a StatefulSet refused for a PriorityClass that does not exist is other',
    fixture: 'failed-create-other-priority-class.json',
    rule: 'failed-create',
    expect: [{ object: 'StatefulSet/streaming/kafka', severity: 'critical', cause: 'other' }],
  },
  {
    name: 'refusals of a ReplicaSet that now has all its pods and of a Job that has completed are history',
    fixture: QUIET,
    rule: 'failed-create',
    expect: [],
  },
  {
    name: 'a CronJob that may not create Jobs is left to the forbidden rule',
    fixture: 'forbidden-cronjob-rbac.json',
    rule: 'failed-create',
    expect: [],
  },

  // ------------------------------------------------------------------ node-pressure
  {
    name: 'MemoryPressure with an evicted pod is memory on the node, with every unfinished pod on it affected, the evicted one included',
    fixture: 'node-pressure-memory.json',
    rule: 'node-pressure',
    expect: [
      {
        object: 'Node//ip-10-0-1-23.eu-west-1.compute.internal',
        severity: 'warning',
        cause: 'memory',
        affected: ['Pod/shop/cart-7b8c9d6f5-h2x4v', 'Pod/shop/cart-7b8c9d6f5-q8w2m', 'Pod/shop/web-6b8f7c9d54-k9p2q'],
      },
    ],
  },
  {
    name: 'DiskPressure and PIDPressure on two nodes are disk and pids, each with its own pods',
    fixture: 'node-pressure-disk-and-pids.json',
    rule: 'node-pressure',
    expect: [
      { object: 'Node//ip-10-0-4-88.eu-west-1.compute.internal', severity: 'warning', cause: 'disk', affected: ['Pod/ci/runner-7f9c6d5b8-b4n8q', 'Pod/ci/runner-7f9c6d5b8-v6k2m'] },
      { object: 'Node//ip-10-0-4-92.eu-west-1.compute.internal', severity: 'warning', cause: 'pids', affected: ['Pod/ci/runner-7f9c6d5b8-c2w5r', 'Pod/ci/runner-7f9c6d5b8-l8d3t'] },
    ],
  },
  {
    name: 'NetworkUnavailable=True because the route controller could not create the route is network',
    fixture: 'node-pressure-network.json',
    rule: 'node-pressure',
    expect: [
      {
        object: 'Node//ip-172-20-61-12.eu-west-1.compute.internal',
        severity: 'warning',
        cause: 'network',
        affected: ['Pod/kube-system/kube-proxy-ip-172-20-61-12.eu-west-1.compute.internal', 'Pod/monitoring/node-exporter-7xq2d'],
      },
    ],
  },
  {
    name: 'pressure that has passed, NetworkUnavailable=False and an operator\'s taint are not node pressure',
    fixture: QUIET,
    rule: 'node-pressure',
    expect: [],
  },
  {
    name: 'a cordoned node is not under pressure',
    fixture: 'node-unschedulable-cordoned.json',
    rule: 'node-pressure',
    expect: [],
  },

  // ------------------------------------------------------------------ node-unschedulable
  {
    name: 'a node cordoned for hours with app pods on it is a warning, the pods that would move affected and the DaemonSet pod not',
    fixture: 'node-unschedulable-cordoned.json',
    rule: 'node-unschedulable',
    expect: [
      {
        object: 'Node//ip-10-0-1-23.eu-west-1.compute.internal',
        severity: 'warning',
        affected: ['Pod/shop/cart-7b8c9d6f5-m4n8t', 'Pod/shop/web-6b8f7c9d54-h7l4z'],
      },
    ],
  },
  {
    name: 'a cordoned node that runs only a DaemonSet pod of the scope is info',
    fixture: 'node-unschedulable-daemonset-only.json',
    rule: 'node-unschedulable',
    expect: [{ object: 'Node//ip-10-0-3-41.eu-west-1.compute.internal', severity: 'info', affected: [] }],
  },
  {
    name: 'schedulable nodes, one with an operator\'s NoSchedule taint, are not cordoned',
    fixture: QUIET,
    rule: 'node-unschedulable',
    expect: [],
  },
  {
    name: 'a node under memory pressure is tainted but not cordoned',
    fixture: 'node-pressure-memory.json',
    rule: 'node-unschedulable',
    expect: [],
  },
];
