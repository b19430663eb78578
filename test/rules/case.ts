import type { Severity } from '../../src/model/finding.js';

/** What one finding of a rule must be: its object, and any of these properties that are given. */
export interface ExpectedFinding {
  /** `Kind/namespace/name`, e.g. `Pod/prod/web-7d9f-abcde` or `Node//node-1` (no namespace). */
  object: string;
  container?: string;
  severity?: Severity;
  cause?: string;
  exitCode?: number;
  signal?: string;
  /** Objects in `affected`, as `Kind/namespace/name`, when the rule lists them. */
  affected?: string[];
}

/** One row of a table-driven rule test: a fixture in, the rule's findings out. */
export interface RuleCase {
  /** What the case shows, as a sentence. */
  name: string;
  /** A file under fixtures/. */
  fixture: string;
  rule: string;
  /** The findings the rule must return on the fixture: [] for a quiet case. */
  expect: ExpectedFinding[];
}
