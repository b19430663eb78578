import type { RuleCase } from '../case.js';

/** Healthy pods, finished Jobs (one with an exit-255 istio-proxy), a completed init container, a pod being deleted. */
const QUIET = 'exit-codes-quiet-healthy-and-finished-jobs.json';

const EXIT_RULES = [
  'crash-loop-back-off',
  'exit-code-0',
  'exit-code-1',
  'exit-code-125',
  'exit-code-126',
  'exit-code-127',
  'exit-code-128',
  'exit-code-134',
  'exit-code-137',
  'exit-code-139',
  'exit-code-143',
  'exit-code-255',
  'exit-code-app',
  'exit-code-signal',
  'oom-killed',
];

const PAYMENTS = ['d4f7k', 'p2s9x', 'w7n5q'].map((suffix) => `Pod/payments/payments-api-6c9d8f7b4-${suffix}`);

/** Cases for the exit-code, oom-killed and crash-loop-back-off rules. */
export const exitCases: RuleCase[] = [
  // oom-killed
  {
    name: 'names OOMKilled, not exit 137, when the kernel killed the container for memory',
    fixture: 'oom-killed-crashloop.json',
    rule: 'oom-killed',
    expect: [{ object: 'Pod/shop/cart-5f7d9b8c4-q8w2m', container: 'cart', severity: 'critical', exitCode: 137, signal: 'SIGKILL', cause: 'memory-limit' }],
  },
  {
    name: 'reports an OOM kill the container has recovered from as a warning',
    fixture: 'oom-killed-recovered-running.json',
    rule: 'oom-killed',
    expect: [{ object: 'Pod/shop/search-7c6b5d8f9-n4k9t', container: 'search', severity: 'warning', exitCode: 137, signal: 'SIGKILL', cause: 'memory-limit' }],
  },
  {
    name: 'blames node memory when a container without a memory limit was OOMKilled',
    fixture: 'oom-killed-no-memory-limit.json',
    rule: 'oom-killed',
    expect: [{ object: 'Pod/analytics/report-builder-84d6f9c7b-z7l2v', container: 'builder', severity: 'critical', exitCode: 137, cause: 'node-memory' }],
  },
  {
    name: 'stays quiet on an exit 137 with reason Error, which is a liveness-probe kill and not an OOM kill',
    fixture: 'exit-code-137-liveness-probe.json',
    rule: 'oom-killed',
    expect: [],
  },
  {
    name: 'stays quiet on a Node.js heap exhaustion, which aborts inside the memory limit',
    fixture: 'exit-code-134-js-heap-out-of-memory.json',
    rule: 'oom-killed',
    expect: [],
  },

  // crash-loop-back-off
  {
    name: 'reports a CrashLoopBackOff on its own when no termination was recorded',
    fixture: 'crash-loop-back-off-no-last-state.json',
    rule: 'crash-loop-back-off',
    expect: [{ object: 'Pod/shop/pricing-7c8d6b5f9-t6j9w', container: 'pricing' }],
  },
  {
    name: 'also reports the crash loop an OOM kill causes, for the engine to fold into oom-killed',
    fixture: 'oom-killed-crashloop.json',
    rule: 'crash-loop-back-off',
    expect: [{ object: 'Pod/shop/cart-5f7d9b8c4-q8w2m', container: 'cart' }],
  },
  {
    name: 'reports an init container in CrashLoopBackOff',
    fixture: 'exit-code-1-init-container-migration.json',
    rule: 'crash-loop-back-off',
    expect: [{ object: 'Pod/shop/orders-7f9b6c5d8-c5g8h', container: 'migrate' }],
  },
  {
    name: 'reports every replica that is in CrashLoopBackOff',
    fixture: 'exit-code-1-deployment-three-replicas.json',
    rule: 'crash-loop-back-off',
    expect: PAYMENTS.map((object) => ({ object, container: 'api' })),
  },
  {
    name: 'reports the crash loop of a process that could not start (StartError)',
    fixture: 'exit-code-128-entrypoint-not-found.json',
    rule: 'crash-loop-back-off',
    expect: [{ object: 'Pod/prod/api-59c8b7d6f-vw5dx', container: 'api' }],
  },
  {
    name: 'stays quiet on a container that crashed once and is running again',
    fixture: 'oom-killed-recovered-running.json',
    rule: 'crash-loop-back-off',
    expect: [],
  },

  // exit-code-0
  {
    name: 'reports a main container that exits 0 under restartPolicy Always and is restarted into CrashLoopBackOff',
    fixture: 'exit-code-0-completed-crashloop.json',
    rule: 'exit-code-0',
    expect: [{ object: 'Pod/shop/catalog-migrate-77b6d9c8f-r9t4b', container: 'migrate', severity: 'critical', exitCode: 0 }],
  },
  {
    name: 'stays quiet on a crash loop with no recorded termination, whose exit code is unknown rather than 0',
    fixture: 'crash-loop-back-off-no-last-state.json',
    rule: 'exit-code-0',
    expect: [],
  },

  // exit-code-1
  {
    name: 'reports each replica of a Deployment that exits 1',
    fixture: 'exit-code-1-deployment-three-replicas.json',
    rule: 'exit-code-1',
    expect: PAYMENTS.map((object) => ({ object, container: 'api', severity: 'critical' as const, exitCode: 1 })),
  },
  {
    name: 'reports an init container that exits 1 and keeps the pod from starting',
    fixture: 'exit-code-1-init-container-migration.json',
    rule: 'exit-code-1',
    expect: [{ object: 'Pod/shop/orders-7f9b6c5d8-c5g8h', container: 'migrate', severity: 'critical', exitCode: 1 }],
  },
  {
    name: 'reports an exit 1 whose termination message carries terminal escape sequences',
    fixture: 'exit-code-1-ansi-termination-message.json',
    rule: 'exit-code-1',
    expect: [{ object: 'Pod/shop/notifier-8c7d5f9b6-f6v2j', container: 'notifier', severity: 'critical', exitCode: 1 }],
  },
  {
    name: 'does not call exit 2 a general application error',
    fixture: 'exit-code-app-usage-error.json',
    rule: 'exit-code-1',
    expect: [],
  },

  // exit-code-125
  {
    name: 'reports a container whose command never ran because the runtime failed (exit 125)',
    fixture: 'exit-code-125-docker-run-failed.json',
    rule: 'exit-code-125',
    expect: [{ object: 'Pod/ci/image-smoke-test-8812-t5k7p', container: 'smoke', severity: 'critical', exitCode: 125 }],
  },
  {
    name: 'stays quiet on a StartError, which containerd reports as exit 128 and not 125',
    fixture: 'exit-code-128-entrypoint-not-found.json',
    rule: 'exit-code-125',
    expect: [],
  },

  // exit-code-126
  {
    name: 'reports a script the shell found but may not execute (exit 126)',
    fixture: 'exit-code-126-script-not-executable.json',
    rule: 'exit-code-126',
    expect: [{ object: 'Pod/shop/reviews-6d8b9f7c5-x4q7l', container: 'reviews', severity: 'critical', exitCode: 126 }],
  },
  {
    name: 'does not take a command that is not found (127) for one that is not executable',
    fixture: 'exit-code-127-command-not-found.json',
    rule: 'exit-code-126',
    expect: [],
  },

  // exit-code-127
  {
    name: 'reports a command the shell cannot find (exit 127)',
    fixture: 'exit-code-127-command-not-found.json',
    rule: 'exit-code-127',
    expect: [{ object: 'Pod/shop/recommendations-5c8f7d6b9-g9h3n', container: 'recommender', severity: 'critical', exitCode: 127 }],
  },
  {
    name: 'does not take a script that is not executable (126) for a missing command',
    fixture: 'exit-code-126-script-not-executable.json',
    rule: 'exit-code-127',
    expect: [],
  },

  // exit-code-128
  {
    name: 'names a missing entrypoint when containerd reports StartError with "no such file or directory"',
    fixture: 'exit-code-128-entrypoint-not-found.json',
    rule: 'exit-code-128',
    expect: [{ object: 'Pod/prod/api-59c8b7d6f-vw5dx', container: 'api', severity: 'critical', exitCode: 128, cause: 'entrypoint-not-found' }],
  },
  {
    name: 'names an entrypoint without execute permission when containerd reports StartError with "permission denied"',
    fixture: 'exit-code-128-entrypoint-permission-denied.json',
    rule: 'exit-code-128',
    expect: [{ object: 'Pod/prod/billing-8b9d6c5f7-j6p8s', container: 'billing', severity: 'critical', exitCode: 128, cause: 'entrypoint-not-executable' }],
  },
  {
    name: 'stays quiet on a container the runtime started that then exited 1',
    fixture: 'exit-code-1-deployment-three-replicas.json',
    rule: 'exit-code-128',
    expect: [],
  },

  // exit-code-134
  {
    name: 'names an exhausted JavaScript heap when the log of a SIGABRT ends in "JavaScript heap out of memory"',
    fixture: 'exit-code-134-js-heap-out-of-memory.json',
    rule: 'exit-code-134',
    expect: [{ object: 'Pod/shop/storefront-ssr-9d8c7b6f5-m3x6c', container: 'ssr', severity: 'critical', exitCode: 134, signal: 'SIGABRT', cause: 'js-heap-exhausted' }],
  },
  {
    name: 'reports a failed assertion (SIGABRT) the container has recovered from as a warning',
    fixture: 'exit-code-134-assertion-abort.json',
    rule: 'exit-code-134',
    expect: [{ object: 'Pod/media/transcoder-5b7f6d9c8-b8d2w', container: 'transcoder', severity: 'warning', exitCode: 134, signal: 'SIGABRT' }],
  },
  {
    name: 'stays quiet on a segmentation fault (139)',
    fixture: 'exit-code-139-segfault.json',
    rule: 'exit-code-134',
    expect: [],
  },

  // exit-code-137
  {
    name: 'names the liveness probe when a container exits 137 after Unhealthy and Killing events',
    fixture: 'exit-code-137-liveness-probe.json',
    rule: 'exit-code-137',
    expect: [{ object: 'Pod/prod/web-7d9f8c6b5-kx8zt', container: 'web', severity: 'critical', exitCode: 137, signal: 'SIGKILL', cause: 'liveness-probe' }],
  },
  {
    name: 'reports a SIGKILL no event explains, on a container running again, as a warning',
    fixture: 'exit-code-137-sigkill-unexplained.json',
    rule: 'exit-code-137',
    expect: [{ object: 'Pod/shop/queue-worker-6f5c8d7b9-h2c4r', container: 'worker', severity: 'warning', exitCode: 137, signal: 'SIGKILL', cause: 'sigkill' }],
  },
  {
    name: 'leaves an exit 137 with reason OOMKilled to the oom-killed rule',
    fixture: 'oom-killed-crashloop.json',
    rule: 'exit-code-137',
    expect: [],
  },
  {
    name: 'leaves an OOM kill the container recovered from to the oom-killed rule',
    fixture: 'oom-killed-recovered-running.json',
    rule: 'exit-code-137',
    expect: [],
  },

  // exit-code-139
  {
    name: 'reports a segmentation fault (exit 139, SIGSEGV)',
    fixture: 'exit-code-139-segfault.json',
    rule: 'exit-code-139',
    expect: [{ object: 'Pod/media/thumbnailer-9f6b8d7c5-l5c8d', container: 'thumbnailer', severity: 'critical', exitCode: 139, signal: 'SIGSEGV' }],
  },
  {
    name: 'stays quiet on an abort (134)',
    fixture: 'exit-code-134-assertion-abort.json',
    rule: 'exit-code-139',
    expect: [],
  },

  // exit-code-143
  {
    name: 'names the liveness probe when SIGTERM after a failed probe ended the container, and warns since it runs again',
    fixture: 'exit-code-143-liveness-probe.json',
    rule: 'exit-code-143',
    expect: [{ object: 'Pod/shop/inventory-7b5d9c6f8-s8k4f', container: 'inventory', severity: 'warning', exitCode: 143, signal: 'SIGTERM', cause: 'liveness-probe' }],
  },
  {
    name: 'leaves a liveness-probe kill that ended in SIGKILL (137) to exit-code-137',
    fixture: 'exit-code-137-liveness-probe.json',
    rule: 'exit-code-143',
    expect: [],
  },

  // exit-code-255
  {
    name: 'reports a program that exits 255 on a fatal error',
    fixture: 'exit-code-255-php-fatal-error.json',
    rule: 'exit-code-255',
    expect: [{ object: 'Pod/shop/mailer-worker-8f6c7b9d5-v3w6b', container: 'worker', severity: 'critical', exitCode: 255 }],
  },
  {
    name: 'stays quiet on a SIGPIPE (141), which is a signal and not exit(-1)',
    fixture: 'exit-code-signal-sigint-sigpipe.json',
    rule: 'exit-code-255',
    expect: [],
  },

  // exit-code-app
  {
    name: 'reports an application-defined exit code, 2 for a command-line usage error',
    fixture: 'exit-code-app-usage-error.json',
    rule: 'exit-code-app',
    expect: [{ object: 'Pod/prod/edge-proxy-5d7c9b8f6-n8b4t', container: 'proxy', severity: 'critical', exitCode: 2 }],
  },
  {
    name: 'leaves exit 1 to its own rule',
    fixture: 'exit-code-1-deployment-three-replicas.json',
    rule: 'exit-code-app',
    expect: [],
  },

  // exit-code-signal
  {
    name: 'decodes exit 141 as SIGPIPE and exit 130 as SIGINT, critical while crash-looping and a warning once running',
    fixture: 'exit-code-signal-sigint-sigpipe.json',
    rule: 'exit-code-signal',
    expect: [
      { object: 'Pod/observability/log-exporter-6b9c5d8f7-k7r2z', container: 'exporter', severity: 'critical', exitCode: 141, signal: 'SIGPIPE' },
      { object: 'Pod/observability/dashboards-9c6d7f8b5-q2x5m', container: 'dashboards', severity: 'warning', exitCode: 130, signal: 'SIGINT' },
    ],
  },
  {
    name: 'leaves SIGTERM (143) to its own rule',
    fixture: 'exit-code-143-liveness-probe.json',
    rule: 'exit-code-signal',
    expect: [],
  },
  {
    name: 'leaves SIGABRT (134) to its own rule',
    fixture: 'exit-code-134-js-heap-out-of-memory.json',
    rule: 'exit-code-signal',
    expect: [],
  },

  // Every rule stays quiet on what is not a problem.
  ...EXIT_RULES.map(
    (rule): RuleCase => ({
      name: 'stays quiet on healthy pods, finished Jobs (one with an istio-proxy that exited 255), an init container that exited 0 and a pod being deleted (exit 143)',
      fixture: QUIET,
      rule,
      expect: [],
    }),
  ),
  {
    name: 'does not call the SIGTERM the kubelet sends an evicted pod a crash (the evicted rule owns it)',
    fixture: 'exit-codes-quiet-evicted-pod.json',
    rule: 'exit-code-143',
    expect: [],
  },
];
