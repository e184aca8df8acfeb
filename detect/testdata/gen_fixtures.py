#!/usr/bin/python3
"""Generate the reference fixtures for detect's agreement tests.

Run from the repository root with Debian's Python, which has scikit-learn:

    /usr/bin/python3 detect/testdata/gen_fixtures.py

Generated with scikit-learn 1.2.1 (Debian python3-sklearn, bundling LIBSVM),
NumPy 1.24.2, and LIBSVM 3.24 (Debian libsvm-tools) for the svm-train
cross-check of rho. The output is deterministic (fixed seeds) and small.

For every dataset NAME it writes NAME_train.csv and NAME_test.csv (header row
f0..f{d-1}, raw values) and NAME.json: a list of cases, each with nu, gamma
(the number used, resolved when gamma was 'scale'), whether gamma was
'scale', whether the script applied log1p + standard scaling + clipping to
±10 itself (then the Go side must use Log1p=true, Scale=standard), the
number of support vectors, sklearn's offset_ (rho), svm-train's rho when
svm-train is installed, and sklearn's decision_function on the test rows.

sklearn is run with its defaults (tol=1e-3, shrinking=True, cache 200 MB),
and again with shrinking=False, the exact path of detect's solver
("decision_noshrink", "rho_noshrink"): with shrinking, LIBSVM stops at a
different point within the tolerance, so agreement is only ~1e-4..1e-3.
svm-train is run as `svm-train -s 2 -t 2 -n NU -g GAMMA -e 0.001 -h 0`.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import sklearn
from sklearn.svm import OneClassSVM

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt(v):
    return repr(float(v))


def write_csv(path, X):
    d = X.shape[1]
    with open(path, "w") as f:
        f.write(",".join("f%d" % k for k in range(d)) + "\n")
        for row in X:
            f.write(",".join(fmt(v) for v in row) + "\n")


def preprocess(train, test):
    """Signed log1p, standard scaling with training statistics, clip ±100 (detect.DefaultClip)."""
    def lg(X):
        return np.sign(X) * np.log1p(np.abs(X))
    a, b = lg(train), lg(test)
    mean = a.mean(axis=0)
    std = a.std(axis=0)
    std[std < 1e-9] = 1.0
    return (np.clip((a - mean) / std, -100, 100),
            np.clip((b - mean) / std, -100, 100))


def libsvm_rho(X, nu, gamma):
    if shutil.which("svm-train") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "train.txt")
        model = os.path.join(tmp, "model.txt")
        with open(data, "w") as f:
            for row in X:
                f.write("1 " + " ".join("%d:%s" % (k + 1, fmt(v)) for k, v in enumerate(row)) + "\n")
        subprocess.run(["svm-train", "-q", "-s", "2", "-t", "2", "-n", fmt(nu), "-g", fmt(gamma),
                        "-e", "0.001", "-h", "0", data, model], check=True)
        with open(model) as f:
            for line in f:
                if line.startswith("rho "):
                    return float(line.split()[1])
    return None


def cases(name, train, test, combos, scaled=False):
    write_csv(os.path.join(HERE, name + "_train.csv"), train)
    write_csv(os.path.join(HERE, name + "_test.csv"), test)
    if scaled:
        tr, te = preprocess(train, test)
    else:
        tr, te = train, test
    out = []
    for nu, gamma in combos:
        clf = OneClassSVM(kernel="rbf", nu=nu, gamma=gamma).fit(tr)
        g = clf._gamma
        ns = OneClassSVM(kernel="rbf", nu=nu, gamma=g, shrinking=False).fit(tr)
        out.append({
            "nu": nu,
            "gamma": g,
            "gamma_scale": gamma == "scale",
            "preprocessed": scaled,
            "n_sv": int(clf.support_.shape[0]),
            "rho": float(clf.offset_[0]),
            "libsvm_rho": libsvm_rho(tr, nu, g),
            "decision": [float(v) for v in clf.decision_function(te)],
            "rho_noshrink": float(ns.offset_[0]),
            "decision_noshrink": [float(v) for v in ns.decision_function(te)],
        })
        print("%s nu=%g gamma=%s -> %.6g: %d SVs, rho %.6g, libsvm rho %s"
              % (name, nu, gamma, g, out[-1]["n_sv"], out[-1]["rho"], out[-1]["libsvm_rho"]),
              file=sys.stderr)
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": out}, f, indent=1)
        f.write("\n")


def main():
    rng = np.random.default_rng(20261125)

    # 2-D: two gaussian blobs; test points on a grid that reaches far out.
    a = rng.normal([0, 0], 0.6, size=(150, 2))
    b = rng.normal([3, 2], 0.4, size=(100, 2))
    train = np.vstack([a, b])
    gx, gy = np.meshgrid(np.linspace(-3, 6, 10), np.linspace(-3, 5, 8))
    test = np.column_stack([gx.ravel(), gy.ravel()])
    cases("blobs2d", train, test,
          [(0.1, 0.5), (0.05, "scale"), (0.5, 2.0), (0.02, 0.1)])

    # 10-D: correlated gaussian with 3% outliers in training, test mixes
    # fresh inliers and outliers.
    d = 10
    A = rng.normal(size=(d, d)) * 0.3 + np.eye(d)
    inl = rng.normal(size=(388, d)) @ A
    out = rng.uniform(-8, 8, size=(12, d))
    train = np.vstack([inl, out])
    rng.shuffle(train)
    test = np.vstack([rng.normal(size=(80, d)) @ A, rng.uniform(-8, 8, size=(20, d))])
    cases("outliers10d", train, test,
          [(0.02, "scale"), (0.1, 0.05), (0.3, "scale")])

    # Network-like counts, 12 features: heavy-tailed packet and byte
    # counts, sparse flags, a constant feature; the script applies log1p,
    # standard scaling and clipping itself.
    n = 400 + 100
    pk = rng.lognormal(3, 1.2, size=n).round()
    X = np.column_stack([
        pk,                                              # packets out
        (pk * rng.lognormal(0, 0.3, size=n)).round(),    # packets in
        (pk * rng.lognormal(6, 0.8, size=n)).round(),    # bytes out
        (pk * rng.lognormal(6.5, 0.9, size=n)).round(),  # bytes in
        rng.poisson(2, size=n),                          # distinct dst IPs
        rng.poisson(3, size=n),                          # distinct dst ports
        rng.poisson(0.2, size=n),                        # SYN without SYN-ACK
        rng.poisson(0.05, size=n),                       # RST
        rng.binomial(1, 0.1, size=n) * rng.poisson(5, size=n),  # DNS queries
        np.zeros(n),                                     # ARP (never seen)
        rng.gamma(2, 0.5, size=n),                       # dst IP entropy
        rng.uniform(0, 1, size=n),                       # fraction TCP
    ])
    train, test = X[:400], X[400:].copy()
    test[:10, 5] *= 200   # port scans
    test[10:15, 6] += 500  # SYN floods
    test[15:18, 9] = 40    # ARP sweep on a feature constant in training
    cases("netcounts", train, test,
          [(0.02, "scale"), (0.05, 0.1), (0.2, "scale")], scaled=True)


if __name__ == "__main__":
    main()
