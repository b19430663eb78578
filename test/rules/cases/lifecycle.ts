import type { RuleCase } from '../case.js';

/** Healthy pods mid-rollout, init containers that completed, a native sidecar, a completed and a running Job, a pod deleted seconds ago. */
const QUIET = 'lifecycle-quiet-healthy.json';

const MAILER = ['h2k9d', 's4n7v', 'b6x2q', 't8r5m'].map((suffix) => `Pod/finance/invoice-mailer-29919300-${suffix}`);

/** Cases for init-container-failed, evicted, deadline-exceeded, job-failed, stuck-terminating and frequent-restarts. */
export const lifecycleCases: RuleCase[] = [
  // init-container-failed
  {
    name: 'names the failed init container of each replica: critical in Init:CrashLoopBackOff, a warning while it runs again',
    fixture: 'init-container-failed-crashloop.json',
    rule: 'init-container-failed',
    expect: [
      { object: 'Pod/billing/invoice-api-5c7f9d8b6-k2x7p', container: 'migrate', severity: 'critical', cause: 'application-error', exitCode: 1 },
      { object: 'Pod/billing/invoice-api-5c7f9d8b6-r9m4t', container: 'migrate', severity: 'warning', cause: 'application-error', exitCode: 1 },
    ],
  },
  {
    name: 'reports an init container that failed for good under restartPolicy Never (Init:Error), with its exit decoded',
    fixture: 'init-container-failed-restart-never-job.json',
    rule: 'init-container-failed',
    expect: [{ object: 'Pod/data/db-seed-8xk2p', container: 'wait-for-postgres', severity: 'critical', cause: 'command-not-found', exitCode: 127 }],
  },
  {
    name: 'also diagnoses the migration init container the exit-code fixtures crash-loop',
    fixture: 'exit-code-1-init-container-migration.json',
    rule: 'init-container-failed',
    expect: [{ object: 'Pod/shop/orders-7f9b6c5d8-c5g8h', container: 'migrate', severity: 'critical', cause: 'application-error', exitCode: 1 }],
  },
  {
    name: 'stays quiet on an OOMKilled init container, which oom-killed reports as a root cause of its own',
    fixture: 'init-container-failed-quiet-oom-killed.json',
    rule: 'init-container-failed',
    expect: [],
  },
  {
    name: 'stays quiet on init containers that completed (one on its second try) and on a running native sidecar',
    fixture: QUIET,
    rule: 'init-container-failed',
    expect: [],
  },
  {
    name: 'reports the OOM kill of an init container as oom-killed',
    fixture: 'init-container-failed-quiet-oom-killed.json',
    rule: 'oom-killed',
    expect: [{ object: 'Pod/ml/ranker-6b8d9f7c4-t5v8n', container: 'unpack-model', severity: 'critical', cause: 'memory-limit', exitCode: 137 }],
  },

  // evicted
  {
    name: 'reports pods evicted for node memory as a warning while the Deployment has other ready pods',
    fixture: 'evicted-memory-deployment-replaced.json',
    rule: 'evicted',
    expect: ['x7k2m', 'p4d9w', 'b8q3z'].map((suffix) => ({ object: `Pod/shop/catalog-6d8f7b9c5-${suffix}`, severity: 'warning' as const, cause: 'memory' })),
  },
  {
    name: 'is critical for an ephemeral-storage eviction that left the Deployment without a ready pod, and for a bare pod over its emptyDir sizeLimit',
    fixture: 'evicted-ephemeral-storage-single-replica.json',
    rule: 'evicted',
    expect: [
      { object: 'Pod/analytics/event-collector-7f6c5d9b8-h3n8c', severity: 'critical', cause: 'ephemeral-storage' },
      { object: 'Pod/analytics/scratch-export', severity: 'critical', cause: 'ephemeral-storage' },
    ],
  },
  {
    name: 'reads an admission refusal for DiskPressure and an eviction for PIDs',
    fixture: 'evicted-disk-pressure-and-pids.json',
    rule: 'evicted',
    expect: [
      { object: 'Pod/ci/build-runner-5b4f8c7d6-c6j2p', severity: 'warning', cause: 'disk-pressure' },
      { object: 'Pod/ci/build-runner-5b4f8c7d6-f9s4k', severity: 'warning', cause: 'disk-pressure' },
      { object: 'Pod/ci/load-generator-8c5d7b6f9-w2t7r', severity: 'warning', cause: 'pids' },
    ],
  },
  {
    name: 'diagnoses the evicted pod the exit-code rules leave alone',
    fixture: 'exit-codes-quiet-evicted-pod.json',
    rule: 'evicted',
    expect: [{ object: 'Pod/shop/inventory-7b5d9c6f8-s8k4f', severity: 'warning', cause: 'memory' }],
  },
  {
    name: 'stays quiet when no pod was evicted',
    fixture: QUIET,
    rule: 'evicted',
    expect: [],
  },

  // deadline-exceeded
  {
    name: 'reports a pod the kubelet stopped at its activeDeadlineSeconds',
    fixture: 'deadline-exceeded-pod-in-job.json',
    rule: 'deadline-exceeded',
    expect: [{ object: 'Pod/ml/train-embeddings-q7w2x', severity: 'critical', cause: 'pod-deadline' }],
  },
  {
    name: 'reports CronJob runs failed at their deadline, as a warning once a later run completed',
    fixture: 'deadline-exceeded-cronjob.json',
    rule: 'deadline-exceeded',
    expect: [
      { object: 'Job/reports/ledger-export-29919270', severity: 'critical', cause: 'job-deadline' },
      { object: 'Job/reports/cleanup-sessions-29919360', severity: 'warning', cause: 'job-deadline' },
    ],
  },
  {
    name: 'stays quiet on a Job that failed at its backoff limit, not its deadline',
    fixture: 'job-failed-cronjob-backoff-limit.json',
    rule: 'deadline-exceeded',
    expect: [],
  },
  {
    name: 'stays quiet on pods and Jobs that finished within their deadline',
    fixture: QUIET,
    rule: 'deadline-exceeded',
    expect: [],
  },

  // job-failed
  {
    name: 'reports a CronJob run that reached its backoff limit with its failed pods, and an older failed run as a warning once a later one completed',
    fixture: 'job-failed-cronjob-backoff-limit.json',
    rule: 'job-failed',
    expect: [
      { object: 'Job/finance/invoice-mailer-29919300', severity: 'critical', cause: 'backoff-limit', exitCode: 1, affected: MAILER },
      { object: 'Job/finance/sitemap-builder-29918895', severity: 'warning', cause: 'backoff-limit', exitCode: 2, affected: ['Pod/finance/sitemap-builder-29918895-k3w8p'] },
    ],
  },
  {
    name: 'reports a Job whose only pod failed in an init container',
    fixture: 'init-container-failed-restart-never-job.json',
    rule: 'job-failed',
    expect: [{ object: 'Job/data/db-seed', severity: 'critical', cause: 'backoff-limit', exitCode: 127, affected: ['Pod/data/db-seed-8xk2p'] }],
  },
  {
    name: 'names a podFailurePolicy rule and failed indexes of an Indexed Job',
    fixture: 'job-failed-pod-failure-policy-and-indexes.json',
    rule: 'job-failed',
    expect: [
      { object: 'Job/batch/ledger-reconcile', severity: 'critical', cause: 'pod-failure-policy', exitCode: 42, affected: ['Pod/batch/ledger-reconcile-x8d2k'] },
      { object: 'Job/batch/shard-import', severity: 'critical', cause: 'failed-indexes', exitCode: 1, affected: ['Pod/batch/shard-import-2-r7c4j', 'Pod/batch/shard-import-2-w1f6h'] },
    ],
  },
  {
    name: 'warns about a running Job whose pods have failed and none succeeded',
    fixture: 'deadline-exceeded-pod-in-job.json',
    rule: 'job-failed',
    expect: [{ object: 'Job/ml/train-embeddings', severity: 'warning', cause: 'retrying', affected: ['Pod/ml/train-embeddings-q7w2x'] }],
  },
  {
    name: 'leaves Jobs failed at their deadline to deadline-exceeded',
    fixture: 'deadline-exceeded-cronjob.json',
    rule: 'job-failed',
    expect: [],
  },
  {
    name: 'stays quiet on a Job that completed after a failed pod, and on a running Job',
    fixture: QUIET,
    rule: 'job-failed',
    expect: [],
  },

  // stuck-terminating
  {
    name: 'reports pods deleted on a node that stopped reporting as critical',
    fixture: 'stuck-terminating-node-lost.json',
    rule: 'stuck-terminating',
    expect: [
      { object: 'Pod/shop/redis-2', severity: 'critical', cause: 'node-lost' },
      { object: 'Pod/shop/api-7d4b9c8f6-l5p2s', severity: 'critical', cause: 'node-lost' },
    ],
  },
  {
    name: 'tells finalizers (critical when the node is gone) from a kubelet that cannot finish the teardown',
    fixture: 'stuck-terminating-finalizers-and-hung-kill.json',
    rule: 'stuck-terminating',
    expect: [
      { object: 'Pod/platform/media-transcode-6c9f8b7d5-d8h3k', severity: 'critical', cause: 'finalizers' },
      { object: 'Pod/platform/pdf-renderer-58f6d9c7b-n2w7x', severity: 'warning', cause: 'finalizers' },
      { object: 'Pod/platform/report-worker-5d8c7f6b9-j9t4r', severity: 'warning', cause: 'other' },
    ],
  },
  {
    name: 'also reports the Terminating pods of the NotReady-node fixture, for node-not-ready to fold',
    fixture: 'node-not-ready-unknown.json',
    rule: 'stuck-terminating',
    expect: [
      { object: 'Pod/prod/web-6b8f7c9d54-h7l4z', severity: 'critical', cause: 'node-lost' },
      { object: 'Pod/prod/postgres-1', severity: 'critical', cause: 'node-lost' },
    ],
  },
  {
    name: 'stays quiet on a pod deleted a few minutes ago',
    fixture: 'exit-codes-quiet-healthy-and-finished-jobs.json',
    rule: 'stuck-terminating',
    expect: [],
  },
  {
    name: 'stays quiet on a pod whose deletion deadline has not passed, and on a running Job pod with its job-tracking finalizer',
    fixture: QUIET,
    rule: 'stuck-terminating',
    expect: [],
  },

  // frequent-restarts
  {
    name: 'reports a running, ready container that was OOMKilled again and again, with the past OOM kill decoded',
    fixture: 'frequent-restarts-recovered-oom.json',
    rule: 'frequent-restarts',
    expect: [{ object: 'Pod/shop/recommender-84c7d9f6b-g6p3w', container: 'recommender', severity: 'warning', exitCode: 137, signal: 'SIGKILL' }],
  },
  {
    name: 'reads recent restarts from the events when no termination was recorded',
    fixture: 'frequent-restarts-no-last-state.json',
    rule: 'frequent-restarts',
    expect: [{ object: 'Pod/edge/gateway-6f9d8c7b5-q2m9x', container: 'gateway', severity: 'warning' }],
  },
  {
    name: 'stays quiet on old restarts, on few recent ones, and on a crash loop',
    fixture: 'frequent-restarts-quiet-old-and-few-restarts.json',
    rule: 'frequent-restarts',
    expect: [],
  },
  {
    name: 'stays quiet on containers that never restarted',
    fixture: QUIET,
    rule: 'frequent-restarts',
    expect: [],
  },
];
