#!/usr/bin/env node
// kdiag's entry point: run the CLI, then exit with its code once stdout has drained.
import { run } from './run.js';

await run();
