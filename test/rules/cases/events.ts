import type { RuleCase } from '../case.js';

/** Transient mount and sandbox errors of a pod that then started, an old liveness blip, warm-up readiness failures, a pod shutting down, a startup probe that passed. */
const QUIET = 'events-quiet-healthy.json';

const MISSING = 'failed-mount-missing-secret-and-configmap.json';
const SANDBOX_CALICO = 'failed-create-pod-sandbox-calico-unauthorized-and-runtime.json';
const SANDBOX_FLANNEL = 'failed-create-pod-sandbox-ip-exhausted-and-pause-image.json';
const LIVENESS_RESTARTS = 'liveness-probe-failed-restarts.json';
const LIVENESS_NOT_YET = 'liveness-probe-failed-not-restarted-yet.json';
const READINESS = 'readiness-probe-failed-no-traffic.json';
const STARTUP = 'startup-probe-failed-slow-start.json';

/** Cases for the failed-mount, failed-create-pod-sandbox and probe rules, which read the kubelet's events. */
export const eventCases: RuleCase[] = [
  // ------------------------------------------------------------------ failed-mount
  {
    name: 'a volume whose secret or configmap does not exist is critical once the pod has waited, a warning for a pod placed 45 seconds ago, also behind an init container',
    fixture: MISSING,
    rule: 'failed-mount',
    expect: [
      { object: 'Pod/payments/api-6b8f9c7d5-5j99r', severity: 'critical', cause: 'missing-secret' },
      { object: 'Pod/payments/gateway-7c6d9f8b4-qdtrr', severity: 'warning', cause: 'missing-secret' },
      { object: 'Pod/payments/ledger-worker-5d7f6c8b9-h7p4r', severity: 'critical', cause: 'missing-configmap' },
    ],
  },
  {
    name: 'a claim that is not bound is unbound-pvc and a claim that does not exist is pvc-not-found, read from the kubelet\'s "error processing PVC" text',
    fixture: 'failed-mount-claims-unbound-and-missing.json',
    rule: 'failed-mount',
    expect: [
      { object: 'Pod/data/reindex-catalog-manual', severity: 'critical', cause: 'pvc-not-found' },
      { object: 'Pod/data/restore-orders-20261120', severity: 'critical', cause: 'unbound-pvc' },
    ],
  },
  {
    name: 'a Multi-Attach error outranks the later generic timeouts, both when another pod uses the disk and when it is attached to a gone node; the old pod that holds the disk is not reported',
    fixture: 'failed-mount-multi-attach.json',
    rule: 'failed-mount',
    expect: [
      { object: 'Pod/cms/prometheus-0', severity: 'critical', cause: 'multi-attach' },
      { object: 'Pod/cms/wordpress-5f8b7d9c6-dxcdr', severity: 'critical', cause: 'multi-attach' },
    ],
  },
  {
    name: 'only the generic "Unable to attach or mount volumes ... context deadline exceeded" is timeout; a CSI driver that is not registered is other',
    fixture: 'failed-mount-csi-driver.json',
    rule: 'failed-mount',
    expect: [
      { object: 'Pod/ml/notebook-64c9d7b8f5-wjlc9', severity: 'critical', cause: 'other' },
      { object: 'Pod/ml/trainer-8d6c5b7f9-sscff', severity: 'critical', cause: 'timeout' },
    ],
  },
  {
    name: 'the pending-pods fixture\'s missing secret volume is missing-secret; pulling, init-waiting, sandbox-failing and image-pull pods are not volume problems',
    fixture: 'pending-container-creating.json',
    rule: 'failed-mount',
    expect: [{ object: 'Pod/prod/web-7f6c5d9b8-sx4mt', severity: 'critical', cause: 'missing-secret' }],
  },
  {
    name: 'a FailedMount followed by the kubelet pulling the image is history: the secret was created',
    fixture: 'failed-mount-resolved-now-pulling.json',
    rule: 'failed-mount',
    expect: [],
  },
  {
    name: 'stays quiet on a running pod whose first mount attempt failed transiently',
    fixture: QUIET,
    rule: 'failed-mount',
    expect: [],
  },
  {
    name: 'stays quiet on sandbox failures, which come after the volumes are mounted',
    fixture: SANDBOX_CALICO,
    rule: 'failed-mount',
    expect: [],
  },

  // ------------------------------------------------------------------ pod-pending, agreeing with failed-mount
  {
    name: 'a pod whose FailedMount was followed by a Pulling event is reported as still pulling, not as the old missing secret',
    fixture: 'failed-mount-resolved-now-pulling.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/prod/reports-9f7c6d5b8-ljzlg', severity: 'warning', cause: 'other' }],
  },

  // ------------------------------------------------------------------ failed-create-pod-sandbox
  {
    name: 'calico\'s "connection is unauthorized: Unauthorized" on both replicas is cni; a RuntimeClass handler containerd does not have is other',
    fixture: SANDBOX_CALICO,
    rule: 'failed-create-pod-sandbox',
    expect: [
      { object: 'Pod/shop/checkout-7f5c9b6d8-h47xp', severity: 'critical', cause: 'cni' },
      { object: 'Pod/shop/checkout-7f5c9b6d8-s54nb', severity: 'critical', cause: 'cni' },
      { object: 'Pod/shop/pdf-renderer-6d8b7c5f9-kmsm2', severity: 'critical', cause: 'other' },
    ],
  },
  {
    name: 'host-local\'s "no IP addresses available in range set" is ip-exhausted and "failed to get sandbox image" is sandbox-image, also for a Job pod',
    fixture: SANDBOX_FLANNEL,
    rule: 'failed-create-pod-sandbox',
    expect: [
      { object: 'Pod/batch/etl-nightly-29390520-s65bl', severity: 'critical', cause: 'sandbox-image' },
      { object: 'Pod/batch/exporter-5c7b9d8f6-vgbpw', severity: 'critical', cause: 'ip-exhausted' },
    ],
  },
  {
    name: 'the AWS VPC CNI\'s "failed to assign an IP address to container" is ip-exhausted, a warning for a pod placed 49 seconds ago',
    fixture: 'pending-container-creating.json',
    rule: 'failed-create-pod-sandbox',
    expect: [{ object: 'Pod/prod/worker-6d5c8b7f9-9nq2c', severity: 'warning', cause: 'ip-exhausted' }],
  },
  {
    name: 'a pod on a node whose CNI is not initialised is cni (node-not-ready folds it)',
    fixture: 'node-not-ready-cni.json',
    rule: 'failed-create-pod-sandbox',
    expect: [{ object: 'Pod/shop/cart-7b8c9d6f5-h2x4v', severity: 'critical', cause: 'cni' }],
  },
  {
    name: 'stays quiet on a running pod whose first sandbox attempt failed',
    fixture: QUIET,
    rule: 'failed-create-pod-sandbox',
    expect: [],
  },
  {
    name: 'stays quiet on pods whose volumes cannot be mounted: the sandbox comes after them',
    fixture: MISSING,
    rule: 'failed-create-pod-sandbox',
    expect: [],
  },

  // ------------------------------------------------------------------ liveness-probe-failed
  {
    name: 'a 404 liveness probe that keeps restarting a container that exits 0 on SIGTERM is critical http-status; timeouts failing again after four kills are critical timeout',
    fixture: LIVENESS_RESTARTS,
    rule: 'liveness-probe-failed',
    expect: [
      { object: 'Pod/web/catalog-84b7f6c9d-cr9zw', container: 'catalog', severity: 'critical', cause: 'timeout' },
      { object: 'Pod/web/storefront-6c8d9b7f5-w9fdq', container: 'storefront', severity: 'critical', cause: 'http-status' },
    ],
  },
  {
    name: 'liveness failures that have not restarted the container yet are warnings: a refused port next to a passing readiness port, a missing exec binary, timeouts, a gRPC NOT_SERVING',
    fixture: LIVENESS_NOT_YET,
    rule: 'liveness-probe-failed',
    expect: [
      { object: 'Pod/api/billing-worker-5f9c8b7d6-lkvpb', container: 'billing-worker', severity: 'warning', cause: 'command-failed' },
      { object: 'Pod/api/inventory-grpc-6d5c7b9f8-jrbkl', container: 'inventory-grpc', severity: 'warning', cause: 'other' },
      { object: 'Pod/api/orders-api-7b6c5d8f9-wf6cz', container: 'orders-api', severity: 'warning', cause: 'connection-refused' },
      { object: 'Pod/api/search-api-9d7f6c5b8-vlkgz', container: 'search-api', severity: 'warning', cause: 'timeout' },
    ],
  },
  {
    name: 'the probe kill behind an exit 137 in CrashLoopBackOff is critical (exit-code-137 folds it)',
    fixture: 'exit-code-137-liveness-probe.json',
    rule: 'liveness-probe-failed',
    expect: [{ object: 'Pod/prod/web-7d9f8c6b5-kx8zt', container: 'web', severity: 'critical', cause: 'http-status' }],
  },
  {
    name: 'a probe kill the container has recovered from is a warning, like the exit 143 it caused',
    fixture: 'exit-code-143-liveness-probe.json',
    rule: 'liveness-probe-failed',
    expect: [{ object: 'Pod/shop/inventory-7b5d9c6f8-s8k4f', container: 'inventory', severity: 'warning', cause: 'timeout' }],
  },
  {
    name: 'stays quiet on one liveness timeout 42 minutes ago that never restarted the container',
    fixture: QUIET,
    rule: 'liveness-probe-failed',
    expect: [],
  },
  {
    name: 'stays quiet on readiness and startup probe failures',
    fixture: READINESS,
    rule: 'liveness-probe-failed',
    expect: [],
  },

  // ------------------------------------------------------------------ readiness-probe-failed
  {
    name: 'readiness is critical when the pod has not been Ready for over 5 minutes, a warning for less or when it flaps while Ready, info in the first 2 minutes; every cause is read from the probe output',
    fixture: READINESS,
    rule: 'readiness-probe-failed',
    expect: [
      { object: 'Pod/shop/cart-api-5b8c7d6f9-vc6v5', container: 'cart-api', severity: 'critical', cause: 'http-status' },
      { object: 'Pod/shop/gateway-7c9b8d5f6-5cljh', container: 'gateway', severity: 'warning', cause: 'connection-refused' },
      { object: 'Pod/shop/orders-db-0', container: 'postgres', severity: 'critical', cause: 'command-failed' },
      { object: 'Pod/shop/recommender-9c8b7f6d5-78mdt', container: 'recommender', severity: 'warning', cause: 'other' },
      { object: 'Pod/shop/reports-8b6d7c9f5-dxl8t', container: 'reports', severity: 'warning', cause: 'timeout' },
      { object: 'Pod/shop/search-6f7d8c9b5-bgnqx', container: 'search', severity: 'info', cause: 'connection-refused' },
    ],
  },
  {
    name: 'stays quiet on readiness failures of a container in CrashLoopBackOff: the crash is the diagnosis',
    fixture: 'exit-code-137-liveness-probe.json',
    rule: 'readiness-probe-failed',
    expect: [],
  },
  {
    name: 'stays quiet on warm-up failures of a container Ready for 30 minutes and on a pod shutting down',
    fixture: QUIET,
    rule: 'readiness-probe-failed',
    expect: [],
  },

  // ------------------------------------------------------------------ startup-probe-failed
  {
    name: 'a startup probe that keeps killing the container is critical (refused port, 404 path); one still within its budget is a warning (exec timeout, failing command, gRPC SERVICE_UNKNOWN)',
    fixture: STARTUP,
    rule: 'startup-probe-failed',
    expect: [
      { object: 'Pod/ledger/batch-gateway-6b7c8d9f5-qkgsh', container: 'batch-gateway', severity: 'warning', cause: 'command-failed' },
      { object: 'Pod/ledger/fx-rates-9d8c7b6f5-wmnb4', container: 'fx-rates', severity: 'warning', cause: 'other' },
      { object: 'Pod/ledger/ledger-core-7d8f9c6b5-2qjwf', container: 'ledger-core', severity: 'critical', cause: 'connection-refused' },
      { object: 'Pod/ledger/pricing-8f9b6c7d5-rzwhl', container: 'pricing', severity: 'critical', cause: 'http-status' },
      { object: 'Pod/ledger/search-indexer-5c6d7b8f9-cdt5q', container: 'search-indexer', severity: 'warning', cause: 'timeout' },
    ],
  },
  {
    name: 'stays quiet on a container whose startup probe failed while starting and then passed',
    fixture: QUIET,
    rule: 'startup-probe-failed',
    expect: [],
  },
];
