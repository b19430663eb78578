/** Exit codes, documented in README and --help. */
export const EXIT = {
  /** Nothing at or above --fail-on. */
  OK: 0,
  /** Diagnoses at or above --fail-on. */
  FINDINGS: 1,
  /** Usage or input error: bad flag, kubeconfig, unknown context, unreadable snapshot, not found. */
  USAGE: 2,
  /** Cluster unreachable, unauthorized, timed out, or failing (5xx) on the pods read. */
  CLUSTER: 3,
  /** A bug in kdiag itself. */
  INTERNAL: 4,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

/** An error kdiag expects and explains in one line; it carries its exit code. */
export class KdiagError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Extra detail shown only with --debug. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'KdiagError';
  }
}

/** Bad flags, bad files, unknown names: exit 2. */
export class UsageError extends KdiagError {
  constructor(message: string, detail?: string) {
    super(message, EXIT.USAGE, detail);
    this.name = 'UsageError';
  }
}

/** The thing asked for does not exist: exit 2, with near names when there are some. */
export class NotFoundError extends KdiagError {
  constructor(
    message: string,
    readonly suggestions: string[] = [],
  ) {
    super(message, EXIT.USAGE);
    this.name = 'NotFoundError';
  }
}

/** The cluster could not be reached, refused our credentials or timed out: exit 3. */
export class ClusterError extends KdiagError {
  constructor(message: string, detail?: string) {
    super(message, EXIT.CLUSTER, detail);
    this.name = 'ClusterError';
  }
}
