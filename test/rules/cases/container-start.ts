import type { RuleCase } from '../case.js';

/** A rollout that fixed a secret reference (old pod being deleted), an arm64 CI runner quoting a build's exec format error, a finished CronJob run. */
const QUIET = 'container-start-quiet-healthy.json';

const CONTAINER_START_RULES = ['create-container-config-error', 'create-container-error', 'run-container-error', 'invalid-image-name', 'exec-format-error'];

/** Cases for the rules about containers that cannot be created or started. */
export const containerStartCases: RuleCase[] = [
  // create-container-config-error
  {
    name: 'names the missing secret on every pod of the Deployment that reads it',
    fixture: 'create-container-config-error-missing-secret.json',
    rule: 'create-container-config-error',
    expect: [
      { object: 'Pod/prod/orders-7c9d5b6f48-2xk9p', container: 'orders', severity: 'critical', cause: 'missing-secret' },
      { object: 'Pod/prod/orders-7c9d5b6f48-h7rtm', container: 'orders', severity: 'critical', cause: 'missing-secret' },
    ],
  },
  {
    name: 'names the key a secret lacks when the secret itself exists',
    fixture: 'create-container-config-error-missing-secret-key.json',
    rule: 'create-container-config-error',
    expect: [{ object: 'Pod/payments/ledger-0', container: 'ledger', severity: 'critical', cause: 'missing-secret-key' }],
  },
  {
    name: 'reports a missing configmap read through envFrom by an init container',
    fixture: 'create-container-config-error-missing-configmap.json',
    rule: 'create-container-config-error',
    expect: [{ object: 'Pod/storefront/web-5d8f7c6b9-kq4zn', container: 'render-config', severity: 'critical', cause: 'missing-configmap' }],
  },
  {
    name: 'names the key a configmap lacks for a CronJob run',
    fixture: 'create-container-config-error-missing-configmap-key.json',
    rule: 'create-container-config-error',
    expect: [{ object: 'Pod/analytics/hourly-report-29919420-x7k2q', container: 'report', severity: 'critical', cause: 'missing-configmap-key' }],
  },
  {
    name: 'explains runAsNonRoot with a root image and with a non-numeric image user',
    fixture: 'create-container-config-error-run-as-non-root.json',
    rule: 'create-container-config-error',
    expect: [
      { object: 'Pod/tools/admin-6b8f9d7c5d-q2w4e', container: 'admin', severity: 'critical', cause: 'run-as-non-root' },
      { object: 'Pod/tools/docs-84c7d9f6b5-m5n8r', container: 'docs', severity: 'critical', cause: 'run-as-non-root' },
    ],
  },

  {
    name: 'takes the config error of the mixed pending-pods fixture, which pod-pending leaves to it',
    fixture: 'pending-container-creating.json',
    rule: 'create-container-config-error',
    expect: [{ object: 'Pod/prod/orders-8b5d7c6f9-c6wnp', container: 'orders', severity: 'critical', cause: 'missing-secret' }],
  },

  // create-container-error
  {
    name: 'blames a hostPath the runtime cannot create on a read-only node filesystem',
    fixture: 'create-container-error-host-path-mkdir.json',
    rule: 'create-container-error',
    expect: [{ object: 'Pod/monitoring/telemetry-agent-8x2kq', container: 'agent', severity: 'critical', cause: 'volume-mount' }],
  },
  {
    name: 'reads CRI-O create failures as a missing and a non-executable entrypoint',
    fixture: 'create-container-error-crio-entrypoint.json',
    rule: 'create-container-error',
    expect: [
      { object: 'Pod/billing/invoice-worker-6f5d8b9c47-r8t2v', container: 'invoice-worker', severity: 'critical', cause: 'entrypoint-not-found' },
      { object: 'Pod/billing/pdf-renderer-7c4b9d6f58-k3w9z', container: 'pdf-renderer', severity: 'critical', cause: 'entrypoint-not-executable' },
    ],
  },
  {
    name: 'reads a deadline exceeded followed by a reserved container name as a slow runtime',
    fixture: 'create-container-error-runtime-timeout.json',
    rule: 'create-container-error',
    expect: [{ object: 'Pod/prod/search-7f9c6d5b8-vx2mn', container: 'search', severity: 'critical', cause: 'runtime-timeout' }],
  },
  {
    name: 'stays quiet on RunContainerError, which comes after the container was created',
    fixture: 'run-container-error-start-failures.json',
    rule: 'create-container-error',
    expect: [],
  },

  // run-container-error
  {
    name: 'tells a non-executable entrypoint, a missing init-container entrypoint and an empty command apart',
    fixture: 'run-container-error-start-failures.json',
    rule: 'run-container-error',
    expect: [
      { object: 'Pod/prod/api-gateway-5b7c9d8f6-zt4kq', container: 'gateway', severity: 'critical', cause: 'entrypoint-not-executable', exitCode: 128 },
      { object: 'Pod/prod/catalog-68d4f7b9c5-b2n7x', container: 'migrate', severity: 'critical', cause: 'entrypoint-not-found', exitCode: 128 },
      { object: 'Pod/prod/debug-shell', container: 'shell', severity: 'critical', cause: 'empty-command', exitCode: 128 },
    ],
  },
  {
    name: 'reads a subPath that mounts a directory onto a file as a volume-mount failure',
    fixture: 'run-container-error-subpath-mount.json',
    rule: 'run-container-error',
    expect: [{ object: 'Pod/prod/pricing-75f8c6d9b4-w9p3d', container: 'pricing', severity: 'critical', cause: 'volume-mount', exitCode: 128 }],
  },
  {
    name: 'reads runc\'s exec format error at start as a wrong architecture (exec-format-error then takes it over)',
    fixture: 'exec-format-error-start-error.json',
    rule: 'run-container-error',
    expect: [{ object: 'Pod/monitoring/gpu-exporter-q9w2c', container: 'exporter', severity: 'critical', cause: 'wrong-architecture', exitCode: 128 }],
  },
  {
    name: 'stays quiet on a CrashLoopBackOff whose last termination was a StartError: exit-code-128 owns that',
    fixture: 'exit-code-128-entrypoint-not-found.json',
    rule: 'run-container-error',
    expect: [],
  },

  // invalid-image-name
  {
    name: 'names capital letters in the repository as the reason an image reference is invalid',
    fixture: 'invalid-image-name-uppercase.json',
    rule: 'invalid-image-name',
    expect: [{ object: 'Pod/web/frontend-7d9b6c5f84-j6h2s', container: 'frontend', severity: 'critical', cause: 'uppercase' }],
  },
  {
    name: 'tells whitespace, a tag with a plus sign and a short digest apart',
    fixture: 'invalid-image-name-tag-and-digest.json',
    rule: 'invalid-image-name',
    expect: [
      { object: 'Pod/data/data-api-59f6d8c7b4-c4x8l', container: 'api', severity: 'critical', cause: 'whitespace' },
      { object: 'Pod/data/backfill-orders-5lq7d', container: 'backfill', severity: 'critical', cause: 'bad-tag' },
      { object: 'Pod/data/net-probe', container: 'probe', severity: 'critical', cause: 'bad-digest' },
    ],
  },
  {
    name: 'stays quiet on an image that parses but cannot be pulled',
    fixture: 'image-pull-not-found.json',
    rule: 'invalid-image-name',
    expect: [],
  },

  // exec-format-error
  {
    name: 'diagnoses the exec format error in the log of the one replica on an arm64 node',
    fixture: 'exec-format-error-arm64-node.json',
    rule: 'exec-format-error',
    expect: [{ object: 'Pod/prod/ledger-api-6d8f9b7c45-x7v5n', container: 'ledger-api', severity: 'critical', exitCode: 255 }],
  },
  {
    name: 'diagnoses an exec format error in a StartError message and in older runc\'s log line on a node not in the snapshot',
    fixture: 'exec-format-error-start-error.json',
    rule: 'exec-format-error',
    expect: [
      { object: 'Pod/monitoring/gpu-exporter-q9w2c', container: 'exporter', severity: 'critical', exitCode: 128 },
      { object: 'Pod/monitoring/legacy-cron-runner', container: 'runner', severity: 'critical', exitCode: 1 },
    ],
  },
  {
    name: 'stays quiet on a StartError that is not an exec format error',
    fixture: 'run-container-error-start-failures.json',
    rule: 'exec-format-error',
    expect: [],
  },

  // quiet for every rule
  ...CONTAINER_START_RULES.map(
    (rule): RuleCase => ({
      name: 'stays quiet on a fixed rollout, a pod being deleted, a running CI runner quoting a build\'s exec format error, and a finished CronJob run',
      fixture: QUIET,
      rule,
      expect: [],
    }),
  ),
];
