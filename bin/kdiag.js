#!/usr/bin/env node
// kdiag's entry point: run the CLI, then exit with its code once stdout has drained.
import { main } from '../dist/src/cli/index.js';

// A reader that goes away (`kdiag ns | head`) is not an error: stop writing, keep the exit code.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(process.argv.slice(2));
if (process.stdout.writableLength > 0 && !process.stdout.destroyed) process.stdout.once('drain', () => process.exit(code));
else process.exit(code);
