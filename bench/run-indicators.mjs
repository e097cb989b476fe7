#!/usr/bin/env node
// Indicator benchmark: ours against TA-Lib's C functions in one process (the npm talib
// binding's talib.node, loaded by bench/indicators_bench.cpp), on the same 10-million-point series:
// SMA, EMA, RSI, ATR, BBANDS, MACD, ADX and the rolling-window family. Prints points/s, the ratio
// (> 1: we are faster) and how far the outputs are apart; where they differ by more than 1e-9 it
// also prints each side's error against the exact value (long double, window summed afresh).
// Exits non-zero when an output is neither equal to TA-Lib's nor closer to the exact value.
// Not a test: never run by ctest.
//
//   node bench/run-indicators.mjs [POINTS] [REPEATS]      (build first: scripts/build)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = process.env.TRIB_INDICATORS_BENCH ?? path.join(ROOT, 'build/bench/indicators_bench');
const talibNode = path.join(path.dirname(createRequire(import.meta.url).resolve('talib/package.json')),
  'build/Release/talib.node');
const points = process.argv[2] ?? '10000000';
const repeats = process.argv[3] ?? '3';
console.log(`TA-Lib: ${talibNode}`);
execFileSync(BENCH, [talibNode, points, repeats], { stdio: ['ignore', 'inherit', 'ignore'] });
