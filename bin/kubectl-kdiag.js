#!/usr/bin/env node
// kdiag as a kubectl plugin: kubectl runs `kubectl-kdiag` from the PATH for `kubectl kdiag ...`.
// The same CLI, with `kubectl kdiag` as the command in help and examples.
import { run } from './run.js';

await run('kubectl kdiag');
