#!/usr/bin/env node
// kdiag as a kubectl plugin: kubectl runs `kubectl-kdiag` from the PATH for `kubectl kdiag ...`.
// The same CLI, with `kubectl kdiag` as the command in help and examples.
import { main } from '../dist/src/cli/index.js';

// A reader that goes away (`kubectl kdiag ns | head`) is not an error: stop writing, keep the exit code.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(process.argv.slice(2), 'kubectl kdiag');
if (process.stdout.writableLength > 0 && !process.stdout.destroyed) process.stdout.once('drain', () => process.exit(code));
else process.exit(code);
