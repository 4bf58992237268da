#!/usr/bin/env node
// The `qiandao` executable: run the command named by the arguments and exit with its code.
import { main } from './run.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`qiandao: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
