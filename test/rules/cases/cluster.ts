import type { RuleCase } from '../case.js';

const QUIET = 'cluster-rules-quiet-healthy.json';

/** Cases for the image-pull-back-off, node-not-ready, pod-pending and forbidden rules. */
export const clusterCases: RuleCase[] = [
  // ------------------------------------------------------------------ image-pull-back-off
  {
    name: 'a tag that was never pushed (containerd "not found") is not-found on both new pods, ImagePullBackOff and ErrImagePull alike',
    fixture: 'image-pull-not-found.json',
    rule: 'image-pull-back-off',
    expect: [
      { object: 'Pod/shop/web-5c7d8f9b6d-q7x2k', container: 'web', severity: 'critical', cause: 'not-found' },
      { object: 'Pod/shop/web-5c7d8f9b6d-m4n8t', container: 'web', severity: 'critical', cause: 'not-found' },
    ],
  },
  {
    name: "Docker Hub's \"pull access denied ... repository does not exist or may require authorization\" alone reads as not-found, from dockerd and from containerd",
    fixture: 'image-pull-docker-hub-ambiguous.json',
    rule: 'image-pull-back-off',
    expect: [
      { object: 'Pod/batch/report-worker-7f9c6d5b8-x2z9k', container: 'report-worker', cause: 'not-found' },
      { object: 'Pod/batch/thumbnailer-84bd6c9f7-p5wqt', container: 'thumbnailer', cause: 'not-found' },
    ],
  },
  {
    name: 'a 401 from the registry is unauthorized, and so is the ambiguous Docker Hub denial once another attempt said "unauthorized"',
    fixture: 'image-pull-unauthorized.json',
    rule: 'image-pull-back-off',
    expect: [
      { object: 'Pod/payments/payments-api-5b7c9d8f6-b8r4n', container: 'api', cause: 'unauthorized' },
      { object: 'Pod/payments/ledger-6c4f8b9d7-zq2lw', container: 'ledger', cause: 'unauthorized' },
    ],
  },
  {
    name: 'a 429 toomanyrequests on an init container is rate-limited and names the init container',
    fixture: 'image-pull-rate-limited.json',
    rule: 'image-pull-back-off',
    expect: [{ object: 'Pod/web/storefront-6d9b8c7f5-r8mnj', container: 'wait-for-redis', cause: 'rate-limited' }],
  },
  {
    name: 'a registry name that does not resolve and an untrusted certificate (x509) are network problems',
    fixture: 'image-pull-network.json',
    rule: 'image-pull-back-off',
    expect: [
      { object: 'Pod/tools/wiki-58f6d7c9b-tn6hd', container: 'wiki', cause: 'network' },
      { object: 'Pod/tools/grafana-7c5d9b8f4-v2xjm', container: 'grafana', cause: 'network' },
    ],
  },
  {
    name: 'without any pull event the cause is unknown, but the back-off is still reported',
    fixture: 'image-pull-no-events.json',
    rule: 'image-pull-back-off',
    expect: [{ object: 'Pod/tools/docs-9d6b7f5c8-lw7rk', container: 'docs', severity: 'critical', cause: 'unknown' }],
  },
  {
    name: 'a pod that failed to pull earlier and has run since is not reported',
    fixture: QUIET,
    rule: 'image-pull-back-off',
    expect: [],
  },
  {
    name: 'the image-pull rule leaves pods that are Pending for other reasons alone',
    fixture: 'pending-insufficient-cpu.json',
    rule: 'image-pull-back-off',
    expect: [],
  },

  // ------------------------------------------------------------------ node-not-ready
  {
    name: 'a node whose kubelet stopped posting status is unreachable and affects every pod on it, Terminating and DaemonSet pods included',
    fixture: 'node-not-ready-unknown.json',
    rule: 'node-not-ready',
    expect: [
      {
        object: 'Node//ip-10-0-2-17.eu-west-1.compute.internal',
        severity: 'critical',
        cause: 'unreachable',
        affected: [
          'Pod/prod/web-6b8f7c9d54-h7l4z',
          'Pod/prod/postgres-1',
          'Pod/kube-system/aws-node-x8k2p',
          'Pod/kube-system/kube-proxy-7dqzn',
          'Pod/monitoring/node-exporter-b5tlw',
        ],
      },
    ],
  },
  {
    name: 'a node stuck without its network plugin is critical, a node that joined a minute ago and waits for it is a warning',
    fixture: 'node-not-ready-cni.json',
    rule: 'node-not-ready',
    expect: [
      {
        object: 'Node//ip-10-0-3-41.eu-west-1.compute.internal',
        severity: 'critical',
        cause: 'network-plugin',
        affected: ['Pod/kube-system/calico-node-q9wx4', 'Pod/kube-system/kube-proxy-8ptzr', 'Pod/shop/cart-7b8c9d6f5-h2x4v'],
      },
      {
        object: 'Node//ip-10-0-3-77.eu-west-1.compute.internal',
        severity: 'warning',
        cause: 'network-plugin',
        affected: ['Pod/kube-system/calico-node-z7ckh', 'Pod/kube-system/kube-proxy-m5r8d'],
      },
    ],
  },
  {
    name: 'PLEG not healthy is a container-runtime problem; any other Ready=False message (a node shutting down) is the kubelet\'s',
    fixture: 'node-not-ready-pleg.json',
    rule: 'node-not-ready',
    expect: [
      {
        object: 'Node//ip-10-0-4-12.eu-west-1.compute.internal',
        severity: 'critical',
        cause: 'container-runtime',
        affected: ['Pod/batch/etl-worker-9c8b7d6f5-6vzkq', 'Pod/batch/etl-worker-9c8b7d6f5-lrt8m', 'Pod/kube-system/aws-node-2nqfb'],
      },
      {
        object: 'Node//ip-10-0-4-30.eu-west-1.compute.internal',
        severity: 'critical',
        cause: 'kubelet',
        affected: ['Pod/batch/etl-worker-9c8b7d6f5-xw2hs', 'Pod/kube-system/aws-node-k9dmw'],
      },
    ],
  },
  {
    name: 'Ready nodes stay quiet, a cordoned one and a three-day-old one included',
    fixture: QUIET,
    rule: 'node-not-ready',
    expect: [],
  },
  {
    name: 'cordoned nodes that are Ready are not NotReady',
    fixture: 'pending-cordoned-nodes.json',
    rule: 'node-not-ready',
    expect: [],
  },

  // ------------------------------------------------------------------ pod-pending
  {
    name: 'Insufficient cpu on the workers (next to the control-plane taint) is insufficient-resources: critical after 14 minutes, a warning at 40 seconds',
    fixture: 'pending-insufficient-cpu.json',
    rule: 'pod-pending',
    expect: [
      { object: 'Pod/analytics/reporting-api-6f8d9c7b5-w9v4r', severity: 'critical', cause: 'insufficient-resources' },
      { object: 'Pod/analytics/reporting-api-6f8d9c7b5-k7m2x', severity: 'warning', cause: 'insufficient-resources' },
    ],
  },
  {
    name: 'one GPU node short of nvidia.com/gpu outweighs four nodes the selector excludes by design: insufficient-resources',
    fixture: 'pending-gpu-insufficient.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/ml/train-resnet50-x7k2q', severity: 'critical', cause: 'insufficient-resources' }],
  },
  {
    name: 'a pod that selects a tainted pool without tolerating the taint is untolerated-taint, though more nodes fail its selector',
    fixture: 'pending-untolerated-taint.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/ml/embedding-server-55c8d9f6b-2hfcz', severity: 'critical', cause: 'untolerated-taint' }],
  },
  {
    name: 'a node selector no node matches is node-affinity',
    fixture: 'pending-node-affinity.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/prod/ledger-sync-7b6f9d4c8-jq9xl', severity: 'critical', cause: 'node-affinity' }],
  },
  {
    name: 'more replicas than nodes under required anti-affinity is pod-anti-affinity',
    fixture: 'pending-anti-affinity.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/prod/checkout-69d8b7c5f-8xk4d', severity: 'critical', cause: 'pod-anti-affinity' }],
  },
  {
    name: '"pod has unbound immediate PersistentVolumeClaims" without a node count is unbound-pvc',
    fixture: 'pending-unbound-pvc.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/data/postgres-0', severity: 'critical', cause: 'unbound-pvc' }],
  },
  {
    name: '"no nodes available to schedule pods" is no-nodes',
    fixture: 'pending-no-nodes.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/default/hello-7d4c9f8b6-zt5bn', severity: 'critical', cause: 'no-nodes' }],
  },
  {
    name: 'scheduling gates are waiting by design: a warning after 40 minutes, info at 30 seconds',
    fixture: 'pending-scheduling-gated.json',
    rule: 'pod-pending',
    expect: [
      { object: 'Pod/team-a/sample-pod-a', severity: 'warning', cause: 'scheduling-gated' },
      { object: 'Pod/team-a/sample-pod-b', severity: 'info', cause: 'scheduling-gated' },
    ],
  },
  {
    name: '"node(s) were unschedulable" on every node is unschedulable-node',
    fixture: 'pending-cordoned-nodes.json',
    rule: 'pod-pending',
    expect: [{ object: 'Pod/prod/api-6b9f8d7c5-w2dfl', severity: 'critical', cause: 'unschedulable-node' }],
  },
  {
    name: 'scheduled pods that do not start are critical when stuck, a warning while still pulling or young with warnings, info when young and quiet; pods in image-pull, crash-loop or config errors are left to those rules',
    fixture: 'pending-container-creating.json',
    rule: 'pod-pending',
    expect: [
      { object: 'Pod/prod/web-7f6c5d9b8-sx4mt', severity: 'critical', cause: 'other' },
      { object: 'Pod/prod/orders-migrate-2-6-0-hk8vz', severity: 'critical', cause: 'other' },
      { object: 'Pod/prod/worker-6d5c8b7f9-9nq2c', severity: 'warning', cause: 'other' },
      { object: 'Pod/prod/reco-9b7d5c8f6-dv5sx', severity: 'warning', cause: 'other' },
      { object: 'Pod/prod/api-58b9c7d6f-4gq7p', severity: 'info', cause: 'other' },
    ],
  },
  {
    name: 'a pod stuck on a node without its network plugin is reported (node-not-ready folds it), a DaemonSet pod in an init crash loop is not',
    fixture: 'node-not-ready-cni.json',
    rule: 'pod-pending',
    expect: [
      { object: 'Pod/shop/cart-7b8c9d6f5-h2x4v', severity: 'critical', cause: 'other' },
      { object: 'Pod/kube-system/calico-node-z7ckh', severity: 'info', cause: 'other' },
    ],
  },
  {
    name: 'a pod waiting on its init container\'s image pull belongs to image-pull-back-off, not to pod-pending',
    fixture: 'image-pull-rate-limited.json',
    rule: 'pod-pending',
    expect: [],
  },
  {
    name: 'running, finished and never-pending pods stay quiet',
    fixture: QUIET,
    rule: 'pod-pending',
    expect: [],
  },

  // ------------------------------------------------------------------ forbidden
  {
    name: 'refused reads of nodes (one per node, merged) and events are warnings with cause rbac',
    fixture: 'forbidden-nodes-and-events.json',
    rule: 'forbidden',
    expect: [
      { object: 'Access//nodes', severity: 'warning', cause: 'rbac' },
      { object: 'Access/prod/events', severity: 'warning', cause: 'rbac' },
    ],
  },
  {
    name: 'a refused pod list is critical; a ReplicaSet list that failed with 500 is a read-failed warning',
    fixture: 'forbidden-pods.json',
    rule: 'forbidden',
    expect: [
      { object: 'Access/payments/pods', severity: 'critical', cause: 'rbac' },
      { object: 'Access/payments/replicasets', severity: 'warning', cause: 'read-failed' },
    ],
  },
  {
    name: 'a ReplicaSet refused by its ResourceQuota is quota; the old ReplicaSet\'s refusal, now scaled to 0, is not reported',
    fixture: 'forbidden-quota-failedcreate.json',
    rule: 'forbidden',
    expect: [{ object: 'ReplicaSet/shop/web-5f6d7c8b9', severity: 'warning', cause: 'quota' }],
  },
  {
    name: 'a Job whose pods violate the namespace\'s PodSecurity level is pod-security',
    fixture: 'forbidden-pod-security-job.json',
    rule: 'forbidden',
    expect: [{ object: 'Job/etl/db-migrate', cause: 'pod-security' }],
  },
  {
    name: 'a pod template naming a service account that does not exist is admission',
    fixture: 'forbidden-service-account.json',
    rule: 'forbidden',
    expect: [{ object: 'ReplicaSet/prod/builder-6d5f8c7b9', cause: 'admission' }],
  },
  {
    name: 'a CronJob whose controller may not create Jobs is rbac, one finding for all its refused runs',
    fixture: 'forbidden-cronjob-rbac.json',
    rule: 'forbidden',
    expect: [{ object: 'CronJob/prod/db-backup', cause: 'rbac' }],
  },
  {
    name: 'no access errors and only a stale quota refusal: nothing forbidden',
    fixture: QUIET,
    rule: 'forbidden',
    expect: [],
  },
];
