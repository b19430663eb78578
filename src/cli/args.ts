import type { Severity } from '../model/finding.js';

/** The parsed flags every command may see. */
export interface GlobalArgs {
  mode?: 'pod' | 'namespace';
  name?: string;
  ns?: string;
  /** `namespace -A`: every namespace (the whole cluster). */
  allNamespaces?: boolean;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  snapshot?: string;
  output: 'text' | 'json' | 'markdown' | 'junit';
  color?: boolean;
  debug: boolean;
  failOn: Severity | 'never';
  requestTimeout: string;
  logs: boolean;
  tail: number;
  verbose?: boolean;
  /** --config FILE (else the default config file, when there is one). */
  config?: string;
  /** --disable ids, already joined with commas when repeated. */
  disable?: string;
  /** `namespace -l`: a label selector. */
  selector?: string;
  /** --watch: follow the cluster and print what changes, until healthy or --timeout. */
  watch?: boolean;
  /** --timeout for --watch (a duration; default 10m). */
  timeout?: string;
  outputFile?: string;
  force?: boolean;
}

/** The report formats of `pod` and `namespace`, the first being the default. */
export const DIAGNOSE_OUTPUTS = ['text', 'json', 'markdown', 'junit'] as const;

/** The thresholds of --fail-on. */
export const FAIL_ON = ['critical', 'warning', 'info', 'never'] as const;

/** The defaults of the options `pod` and `namespace` share (the parser's and the plain forms'). */
export const DIAGNOSE_DEFAULTS = { requestTimeout: '30s', logs: true, tail: 20, failOn: 'critical', verbose: false, debug: false } as const;
