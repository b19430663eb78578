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
];
