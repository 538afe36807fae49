"""What a configuration lets an account use."""

from __future__ import annotations

from canone.billing.catalog import Catalog
from canone.billing.configuration import Configuration


def features(catalog: Catalog, config: Configuration) -> frozenset[str]:
    """The tier's features (cumulative, bundle = its products'), plus one feature per add-on
    that the configuration buys or its tier includes, named by the add-on's code."""
    plan = catalog.plan(config.product, config.tier)
    included = [
        code for code, addon in catalog.addons.items()
        if addon.is_included(config.product, config.tier)
    ]
    return plan.features.union(config.addons, included)
