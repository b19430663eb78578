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
  outputFile?: string;
  force?: boolean;
}
