import type { RuleCase } from '../case.js';

/** Cases for the exit-code, oom-killed and crash-loop-back-off rules. */
export const exitCases: RuleCase[] = [];
