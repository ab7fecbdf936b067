"""Reference ε values for test/claims/dp-oracle.json, computed by the libraries themselves.

Usage (the libraries are read from a checkout, never vendored into this repository):
  /usr/bin/python3 test/claims/make-dp-oracle.py <opacus checkout>[@commit] <google/differential-privacy checkout>[@commit] > test/claims/dp-oracle.json
Needs numpy and scipy only: Opacus's package __init__ pulls in torch.func, so its accountants
are imported with the optimizer module stubbed (the accountants use it only for a type).
"""
import json, subprocess, sys, types

opacus_arg, dp_arg = sys.argv[1], sys.argv[2]
opacus_root, _, opacus_commit = opacus_arg.partition("@")
dp_root, _, dp_commit = dp_arg.partition("@")
sys.path.insert(0, f"{dp_root}/python/dp_accounting")
for name, path in [("opacus", f"{opacus_root}/opacus"), ("opacus.accountants", f"{opacus_root}/opacus/accountants")]:
    m = types.ModuleType(name); m.__path__ = [path]; sys.modules[name] = m
# dp_accounting logs through absl; Python's logging has the same calls.
import logging as _logging
absl = types.ModuleType("absl"); absl.logging = _logging; sys.modules["absl"] = absl; sys.modules["absl.logging"] = _logging
opt = types.ModuleType("opacus.optimizers"); opt.DPOptimizer = object; sys.modules["opacus.optimizers"] = opt

from opacus.accountants.prv import PRVAccountant  # noqa: E402
from opacus.accountants.rdp import RDPAccountant  # noqa: E402
from opacus.accountants.analysis import rdp as opacus_rdp  # noqa: E402
import dp_accounting  # noqa: E402
from dp_accounting.rdp import rdp_privacy_accountant as dpa_rdp  # noqa: E402


def commit(root):
    """The checkout's commit; for an exported tree, pass it as <root>@<commit>."""
    try:
        return subprocess.check_output(["git", "-C", root, "rev-parse", "HEAD"], text=True, stderr=subprocess.DEVNULL).strip()
    except Exception:
        return None


def mnist_steps(n, b, epochs):
    import math
    q = b / n
    return q, math.ceil(epochs / q)

settings = []
q, T = mnist_steps(60000, 256, 60); settings.append(("MNIST tutorial N=60000 B=256 sigma=1.1 60 epochs", [(1.1, q, T)], 1e-5))
q, T = mnist_steps(60000, 256, 15); settings.append(("same, 15 epochs", [(1.1, q, T)], 1e-5))
q, T = mnist_steps(60000, 256, 60); settings.append(("60 epochs, sigma halved (TF used_microbatching)", [(0.55, q, T)], 1e-5))
q, T = mnist_steps(50000, 512, 10); settings.append(("N=50000 B=512 sigma=1.0 10 epochs", [(1.0, q, T)], 1e-5))
settings.append(("Opacus PRV test grid (0.8, 0.05, 1000)", [(0.8, 0.05, 1000)], 1e-6))
settings.append(("Opacus PRV test grid (2.0, 0.001, 20000)", [(2.0, 0.001, 20000)], 1e-6))
settings.append(("q=0.2 sigma=3 100 steps", [(3.0, 0.2, 100)], 1e-6))
settings.append(("heterogeneous history", [(1.0, 0.01, 500), (2.0, 0.02, 300)], 1e-5))
settings.append(("support-desk-sized: N=1200 B=60 sigma=1.0 20 epochs", [(1.0, 0.05, 400)], 1e-4))

cases = []
for name, history, delta in settings:
    r = RDPAccountant(); r.history = list(history)
    eps_rdp, alpha_rdp = r.get_privacy_spent(delta=delta)
    p = PRVAccountant(); p.history = list(history)
    eps_prv = p.get_epsilon(delta=delta)  # eps_error 0.01, delta_error delta/1000: the upper end
    dprv = p._get_dprv(eps_error=0.01, delta_error=delta / 1000)
    lo, est, hi = dprv.compute_epsilon(delta, delta / 1000, 0.01)
    acc = dpa_rdp.RdpAccountant()
    for sigma, q, steps in history:
        acc.compose(dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps)
    eps_dpa, alpha_dpa = acc.get_epsilon_and_optimal_order(delta)
    cases.append({
        "name": name, "history": [{"noiseMultiplier": s, "sampleRate": q, "steps": t} for s, q, t in history], "delta": delta,
        "opacusRdp": {"epsilon": float(eps_rdp), "alpha": float(alpha_rdp)},
        "opacusPrv": {"epsilon": float(eps_prv), "estimate": float(est), "lower": float(lo), "epsError": 0.01, "deltaError": delta / 1000},
        "dpAccountingRdp": {"epsilon": float(eps_dpa), "alpha": float(alpha_dpa)},
    })

# Opacus analysis/rdp.py doctest: orders 2..32.
orders = list(range(2, 33))
import numpy as np
rdp = np.zeros(len(orders))
for q, sigma, steps in [(1e-5, 1.0, 10), (1e-4, 3.0, 4)]:
    rdp += opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=orders)
e, a = opacus_rdp.get_privacy_spent(orders=orders, rdp=rdp, delta=1e-5)
doctest = {"history": [{"noiseMultiplier": 1.0, "sampleRate": 1e-5, "steps": 10}, {"noiseMultiplier": 3.0, "sampleRate": 1e-4, "steps": 4}],
           "orders": orders, "delta": 1e-5, "epsilon": float(e), "alpha": float(a)}

# Per-order RDP values (one step) for the series themselves: integer and fractional orders.
per_order = []
for q, sigma in [(256 / 60000, 1.1), (256 / 60000, 0.55), (0.05, 0.8), (0.2, 3.0)]:
    for alpha in [1.5, 2.2, 3.0, 7.7, 8.1, 12.0, 32.0, 63.0]:
        per_order.append({"sampleRate": q, "noiseMultiplier": sigma, "alpha": alpha,
                          "opacus": float(opacus_rdp._compute_rdp(q, sigma, alpha)),
                          "dpAccounting": float(dpa_rdp._compute_rdp_poisson_subsampled_gaussian(q, sigma, [alpha])[0])})

print(json.dumps({
    "source": {
        "opacus": {"repo": "github.com/pytorch/opacus", "commit": opacus_commit or commit(opacus_root),
                   "functions": ["opacus.accountants.rdp.RDPAccountant.get_privacy_spent (DEFAULT_ALPHAS)",
                                 "opacus.accountants.prv.PRVAccountant.get_epsilon (eps_error=0.01, delta_error=delta/1000; returns the upper end)",
                                 "opacus.accountants.analysis.rdp._compute_rdp / get_privacy_spent"]},
        "dpAccounting": {"repo": "github.com/google/differential-privacy (python/dp_accounting)", "commit": dp_commit or commit(dp_root),
                         "functions": ["dp_accounting.rdp.RdpAccountant(DEFAULT_RDP_ORDERS).get_epsilon_and_optimal_order",
                                       "dp_accounting.rdp.rdp_privacy_accountant._compute_rdp_poisson_subsampled_gaussian"]},
        "script": "test/claims/make-dp-oracle.py",
    },
    "conventions": "Poisson-subsampled Gaussian, add/remove adjacency; steps T = ceil(epochs / q) for the epoch-given cases; history entries compose. RDP epsilon uses each library's default orders and its improved conversion (Balle et al. 2020 Thm 21 = Canonne et al. 2020 Prop. 12). PRV epsilon is Opacus's upper end (estimate + eps_error with delta - delta_error).",
    "cases": cases, "opacusDoctest": doctest, "perOrderRdp": per_order,
}, indent=1))
