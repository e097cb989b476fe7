#!/usr/bin/env node
// ML benchmark: dataset build + XGBoost training on the 505 S&P 500 stocks of ../shared/data
// (all_stocks_5yr, 2013-2018: 619k rows x Alpha158's 158 features), 2 cores, next to the Python
// xgboost package (Debian's python3-xgboost, the same library version as libxgboost-dev) training
// the same matrix with the same parameters. One walk-forward split (train 2013-02..2017-02,
// validation for early stopping, test the last year), then the final model.
//
// Prints, for trib: the whole `trib ml train` (wall, peak RSS), and its parts (dataset build from
// the feature files, preprocessing, the split's fit); for Python: loading the exported matrices,
// DMatrix construction + training with the same early stopping (wall, peak RSS). The ratio
// compares the fits: the library is the same, so it is our overhead around it.
//
//   node bench/run-ml.mjs      (build first: scripts/build; needs /usr/bin/python3 with xgboost)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIB = process.env.TRIB_BIN ?? path.join(ROOT, 'build/apps/trib/trib');
const SHARED = path.resolve(ROOT, '../shared/data');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-ml-'));
const GNU_TIME = '/usr/bin/time';

function timed(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME, ['-f', 'TIME %e %M %P', ...argv], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  const m = /TIME ([\d.]+) (\d+) (\d+)%/.exec(r.stderr ?? '');
  return { wall, rss: m ? Number(m[2]) / 1024 : NaN, cpu: m ? Number(m[3]) : NaN, out: r.stdout };
}

const ws = path.join(dir, 'ws');
execFileSync(TRIB, ['init', ws]);
const csv = path.join(dir, 'all_stocks_5yr.csv');
execFileSync('zstd', ['-q', '-f', '-d', path.join(SHARED, 'equities-daily/all_stocks_5yr.csv.zst'), '-o', csv]);
execFileSync(TRIB, ['-w', ws, 'ingest', '--vendor', 'csv', '--file', csv, '--quarantine-bad-rows']);
execFileSync(TRIB, ['-w', ws, 'features', '--set', 'alpha158']);  // computed once, outside the timings

const params = { num_boost_round: 200, early_stopping_rounds: 20, max_depth: 6, eta: 0.1, nthread: 2 };
const config = path.join(dir, 'model.toml');
fs.writeFileSync(config, [
  'name = "bench"', '[dataset]', 'feature_set = "alpha158"', '[split]', 'train = 882', 'valid = 126', 'test = 251',
  '[model]', 'kind = "xgboost"', '[model.params]', ...Object.entries(params).map(([k, v]) => `${k} = ${v}`), ''].join('\n'));
const exported = path.join(dir, 'export');
const ours = timed([TRIB, '-w', ws, 'ml', 'train', '--config', config, '--json', '--export', exported]);
const j = JSON.parse(ours.out);
const split = j.seconds.splits[0];
const fit = JSON.parse(fs.readFileSync(path.join(exported, 'split=0/fit.json'), 'utf8')).fit;

const py = `
import json, time, numpy as np, xgboost as xgb
d = ${JSON.stringify(path.join(exported, 'split=0'))}
t0 = time.time()
X, y = np.load(d + "/X_train.npy"), np.load(d + "/y_train.npy").astype(np.float32)
Xv, yv = np.load(d + "/X_valid.npy"), np.load(d + "/y_valid.npy").astype(np.float32)
t1 = time.time()
params = json.load(open(d + "/fit.json"))["fit"]["params"]
dtrain, dvalid = xgb.DMatrix(X, label=y, missing=np.nan, nthread=2), xgb.DMatrix(Xv, label=yv, missing=np.nan, nthread=2)
b = xgb.train(params, dtrain, num_boost_round=${params.num_boost_round}, evals=[(dvalid, "valid")],
              early_stopping_rounds=${params.early_stopping_rounds}, verbose_eval=False)
t2 = time.time()
print(json.dumps({"load": t1 - t0, "fit": t2 - t1, "rounds": b.best_iteration + 1, "rows": int(X.shape[0])}))
`;
const theirs = timed(['/usr/bin/python3', '-c', py]);
const p = JSON.parse(theirs.out);

console.log(`machine: ${os.cpus().length} cores; ${j.metrics.test.rows} test rows; split 0: ${p.rows} training rows x 158 features`);
console.log(`trib ml train (dataset + split 0 + final model)  ${ours.wall.toFixed(1).padStart(6)} s  ${ours.rss.toFixed(0).padStart(6)} MiB peak`);
console.log(`  dataset build (features read, labels)          ${j.seconds.dataset.toFixed(1).padStart(6)} s`);
console.log(`  split 0: preprocessing                         ${split.prepare.toFixed(1).padStart(6)} s`);
console.log(`  split 0: XGBoost fit (${fit.rounds} rounds kept, ${fit.rounds_tried} tried)       ${split.fit.toFixed(1).padStart(6)} s`);
console.log(`  final model (preprocessing + fit)              ${j.seconds.final.toFixed(1).padStart(6)} s`);
console.log(`python3 xgboost ${'(same matrix, params, early stopping)'.padEnd(31)} ${theirs.wall.toFixed(1).padStart(6)} s  ${theirs.rss.toFixed(0).padStart(6)} MiB peak`);
console.log(`  loading the .npy matrices                      ${p.load.toFixed(1).padStart(6)} s`);
console.log(`  DMatrix + fit (${p.rounds} rounds kept)                ${p.fit.toFixed(1).padStart(6)} s`);
console.log(`fit ratio python / trib: ${(p.fit / split.fit).toFixed(2)}x (> 1: ours is faster)`);
fs.rmSync(dir, { recursive: true, force: true });
