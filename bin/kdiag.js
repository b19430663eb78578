#!/usr/bin/env node
// kdiag's entry point: run the CLI, then exit with its code once stdout has drained.
import { main } from '../dist/src/cli/index.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
if (process.stdout.writableLength > 0) process.stdout.once('drain', () => process.exit(code));
else process.exit(code);
