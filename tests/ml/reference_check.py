"""Independent checks of `trib ml train` against Debian's scikit-learn, xgboost and scipy.

Usage: /usr/bin/python3 reference_check.py ridge|xgboost EXPORT_DIR LAKE_MODEL_DIR METRICS_JSON

EXPORT_DIR is what `trib ml train --export` wrote (split=<k>/X_train.npy, ...), LAKE_MODEL_DIR the
model's artefacts in a local lake (models/<id>/), METRICS_JSON its metrics.json. Prints one line
per check and exits non-zero on the first mismatch. Python is a test-time reference only.
"""
import json
import os
import sys

import numpy as np
from scipy import stats


def load(d, name):
    return np.load(os.path.join(d, name))


def splits(export_dir):
    return sorted((p for p in os.listdir(export_dir) if p.startswith("split=")), key=lambda p: int(p[6:]))


def check_ridge(export_dir, model_dir):
    from sklearn.linear_model import Ridge
    worst_coef = worst_pred = 0.0
    for s in splits(export_dir):
        d = os.path.join(export_dir, s)
        ours = json.load(open(os.path.join(model_dir, s, "model.json")))
        x = load(d, "X_train.npy").astype(np.float64)
        y = load(d, "y_train.npy")
        ref = Ridge(alpha=ours["alpha"], fit_intercept=True, solver="cholesky").fit(x, y)
        worst_coef = max(worst_coef, float(np.max(np.abs(ref.coef_ - np.array(ours["coef"])))),
                         abs(float(ref.intercept_) - ours["intercept"]))
        pred = ref.predict(load(d, "X_test.npy").astype(np.float64))
        worst_pred = max(worst_pred, float(np.max(np.abs(pred - load(d, "pred_test.npy")))))
    print(f"ridge: {len(splits(export_dir))} splits, coefficients within {worst_coef:.2e}, "
          f"predictions within {worst_pred:.2e} of sklearn.linear_model.Ridge")
    assert worst_coef <= 1e-8 and worst_pred <= 1e-8, "ridge differs from scikit-learn"


def check_xgboost(export_dir):
    import xgboost as xgb
    worst = 0.0
    for s in splits(export_dir):
        d = os.path.join(export_dir, s)
        fit = json.load(open(os.path.join(d, "fit.json")))["fit"]
        params = {k: v for k, v in fit["params"].items()}
        train = xgb.DMatrix(load(d, "X_train.npy"), label=load(d, "y_train.npy").astype(np.float32), missing=np.nan)
        booster = xgb.train(params, train, num_boost_round=fit["rounds"])
        pred = booster.predict(xgb.DMatrix(load(d, "X_test.npy"), missing=np.nan)).astype(np.float64)
        worst = max(worst, float(np.max(np.abs(pred - load(d, "pred_test.npy")))))
    print(f"xgboost {xgb.__version__}: {len(splits(export_dir))} splits, predictions within {worst:.2e} "
          f"of xgboost.train with the same parameters and rounds")
    assert worst <= 1e-6, "xgboost differs from the Python package"


def check_ic(export_dir, metrics_path):
    by_date = {m["date"]: m for m in json.load(open(metrics_path))["by_date"]}
    worst = 0.0
    dates = 0
    epoch = np.datetime64("1970-01-01")
    for s in splits(export_dir):
        d = os.path.join(export_dir, s)
        day, pred, label = load(d, "day_test.npy"), load(d, "pred_test.npy"), load(d, "label_test.npy")
        for value in np.unique(day):
            mask = day == value
            if mask.sum() < 2:
                continue
            ours = by_date[str(epoch + np.timedelta64(int(value), "D"))]
            worst = max(worst, abs(stats.pearsonr(pred[mask], label[mask])[0] - ours["ic"]),
                        abs(stats.spearmanr(pred[mask], label[mask])[0] - ours["rank_ic"]))
            dates += 1
    print(f"IC and rank IC on {dates} test dates within {worst:.2e} of scipy.stats.pearsonr / spearmanr")
    assert dates > 0 and worst <= 1e-9, "IC differs from scipy"


if __name__ == "__main__":
    kind, export_dir, model_dir, metrics = sys.argv[1:5]
    if kind == "ridge":
        check_ridge(export_dir, model_dir)
    else:
        check_xgboost(export_dir)
    check_ic(export_dir, metrics)
