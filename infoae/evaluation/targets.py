"""The targets a run is held to and the best published figures, in one table.

``HEADLINE`` lists the figures a report shows first: where each sits in metrics.json, which
way is better, the goal per dataset (the project's own goals), and the best figure published
for the same quantity, with its source. Reports (``infoae report``) and the README's headline
table read the same numbers from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Headline:
    label: str
    path: tuple[str, ...]                 # keys into metrics.json
    higher: bool                          # whether a higher value is better
    goals: dict[str, float] = field(default_factory=dict)   # dataset -> goal
    published: tuple[float, str] | None = None             # (value, source)
    percent: bool = False                 # shown as a percentage


JHA = "Jha et al. 2018, cycle-consistent VAE, MNIST"
# Datasets the goals apply to; a run on another dataset shows no goal.
MNIST, SYNDIGITS = ("mnist",), ("syndigits",)

HEADLINE = (
    Headline("content accuracy", ("metrics", "content_acc"), True,
             {"mnist": 0.994, "syndigits": 0.99}, (0.9835, JHA), percent=True),
    Headline("class leakage, strictest probe (kept dims)", ("metrics", "style_leak_mlp"), False,
             {"mnist": 0.13, "syndigits": 0.13}, (0.1756, JHA), percent=True),
    Headline("class leakage, strictest probe (all dims)", ("style_code", "leak_mlp_all_dims"), False,
             {"mnist": 0.20, "syndigits": 0.20}, (0.1756, JHA + " (16 of 16 dims)"),
             percent=True),
    Headline("class leakage, linear probe", ("metrics", "style_leak_linear"), False,
             percent=True),
    # What an uninformative probe reads on the scored split (its commonest class's share), and
    # the class information the probe panel finds in the code (H(class) - lowest cross-entropy).
    Headline("class leakage floor (commonest class)", ("style_code", "floor", "majority"), False,
             percent=True),
    Headline("class information in the style code (bits, lower bound)",
             ("style_code", "information", "style_leak_mlp", "bits"), False),
    Headline("swap accuracy, strictest judge", ("metrics", "swap_acc"), True,
             {"mnist": 0.985, "syndigits": 0.95}, percent=True),
    Headline("swap accuracy, plain judge", ("judges", "plain", "swap_acc"), True, percent=True),
    Headline("swap accuracy, batch-norm judge", ("judges", "batchnorm", "swap_acc"), True,
             percent=True),
    Headline("style consistency (0 = perfect)", ("metrics", "style_consistency"), False,
             {"mnist": 0.05}),
    Headline("reconstruction MSE", ("metrics", "recon_mse"), False, {"mnist": 0.024}),
    Headline("Frechet digit distance", ("metrics", "fdd"), False, {"syndigits": 360.0}),
    Headline("MIG", ("factors", "mig", "mig"), True),
    Headline("SAP", ("factors", "sap", "sap"), True),
    Headline("DCI disentanglement", ("factors", "dci", "disentanglement"), True),
    Headline("swap factor error, slant (0 = kept from the source)",
             ("factors", "swap_factor_error", "per_factor", "slant", "ratio"), False,
             {"mnist": 0.25}),
    Headline("swap factor error, thickness (0 = kept from the source)",
             ("factors", "swap_factor_error", "per_factor", "thickness", "ratio"), False,
             {"mnist": 0.45}),
    Headline("thickness R^2 from the style code", ("factors", "style_factor_r2", "thickness"),
             True, {"mnist": 0.8}),
    Headline("slant R^2 from the style code", ("factors", "style_factor_r2", "slant"), True,
             {"mnist": 0.8}),
    Headline("background colour R^2 (red)", ("factors", "style_factor_r2", "bg_r"), True,
             {"syndigits": 0.9}),
    Headline("foreground colour R^2 (red)", ("factors", "style_factor_r2", "fg_r"), True,
             {"syndigits": 0.9}),
    Headline("scale R^2", ("factors", "style_factor_r2", "scale"), True, {"syndigits": 0.8}),
)


def value_at(report: dict, path: tuple[str, ...]):
    """The number at path in a metrics.json report, or None when it is not there."""
    value = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def meets(headline: Headline, value: float, goal: float) -> bool:
    return value >= goal if headline.higher else value <= goal
