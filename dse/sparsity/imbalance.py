"""Load imbalance of randomly-placed non-zero work spread over P processing elements.

Each of P PEs owns ``n`` candidate work units (sub-vectors, delta elements), each kept independently
with probability ``q``. The busiest PE sets the finish time. Its expected load is approximated by the
expected maximum of P i.i.d. normal variables (the binomial's normal approximation) using the classic
extreme-value bound E[max] ≈ μ + σ·√(2 ln P), with μ = n·q and σ = √(n·q·(1−q)) (e.g. Gumbel 1958;
David & Nagaraja, *Order Statistics*, §10.5). The factor is capped at ``n / μ = 1/q`` (a PE cannot do
more than all its candidates). With q = 1 (dense) or P = 1 the factor is exactly 1.
"""

from __future__ import annotations

import numpy as np


def imbalance_factor(candidates, keep, pes):
    """Expected (max PE load) / (mean PE load) ≥ 1, arrays in, array out.

    ``candidates``: total candidate units of the op; ``keep``: kept fraction q; ``pes``: PE count.
    """
    n = np.maximum(np.asarray(candidates, dtype=np.float64) / np.asarray(pes, dtype=np.float64), 1.0)
    q = np.clip(np.asarray(keep, dtype=np.float64), 1e-12, 1.0)
    mu = n * q
    sigma = np.sqrt(n * q * (1.0 - q))
    spread = np.sqrt(2.0 * np.log(np.maximum(np.asarray(pes, dtype=np.float64), 1.0)))
    return np.minimum(1.0 + sigma * spread / mu, 1.0 / q)
