"""Independent values of the one-run audit bound (Steinke, Nasr, Jagielski 2023, App. D / Cor. 5.4),
written from the paper's formulas with scipy.stats.binom; brentq to 1e-12 instead of bisection.
  /usr/bin/python3 test/claims/make-one-run-oracle.py > test/claims/one-run-oracle.json"""
import json
import numpy as np
from scipy.optimize import brentq
from scipy.stats import binom


def p_value(m, r, v, eps, delta):
    q = np.exp(eps) / (1 + np.exp(eps))
    beta = binom.sf(v - 1, r, q)  # P[X >= v]
    if delta == 0:
        return beta
    alpha = max([(binom.sf(v - i - 1, r, q) - beta) / i for i in range(1, v + 1)] + [0])
    return min(1.0, beta + alpha * delta * 2 * m)


def eps_lb(m, r, v, delta, p=0.05):
    f = lambda e: p - p_value(m, r, v, e, delta)
    if f(0) <= 0:
        return 0.0
    hi = 1.0
    while f(hi) > 0:
        hi *= 2
    return brentq(f, 0, hi, xtol=1e-12)


cases = [(1000, 100, 100, 0), (1000, 100, 100, 1e-5), (1000, 100, 90, 1e-5), (1000, 500, 400, 1e-5),
         (1000, 1000, 600, 1e-5), (1000, 50, 50, 1e-5), (1000, 200, 200, 1e-5), (1000, 10, 10, 1e-5),
         (100, 10, 10, 0), (250, 60, 55, 1e-4), (250, 125, 125, 1e-4), (5000, 2500, 1400, 1e-6)]
out = [{"m": m, "r": r, "v": v, "delta": d, "epsilon": eps_lb(m, r, v, d),
        "pValueAt1": p_value(m, r, v, 1.0, d)} for m, r, v, d in cases]
print(json.dumps({"source": "test/claims/make-one-run-oracle.py (scipy.stats.binom, brentq xtol 1e-12); significance 0.05", "cases": out}, indent=1))
