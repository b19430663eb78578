import type { RuleCase } from '../case.js';
import { clusterCases } from './cluster.js';
import { containerStartCases } from './container-start.js';
import { eventCases } from './events.js';
import { exitCases } from './exit-codes.js';
import { lifecycleCases } from './lifecycle.js';
import { ownerNodeCases } from './owners-nodes.js';

/** Every table-driven rule case; each file in this folder contributes one table. */
export const allCases: RuleCase[] = [...exitCases, ...clusterCases, ...ownerNodeCases, ...eventCases, ...containerStartCases, ...lifecycleCases];
