"""Cluster add-ons (CoreDNS, etcd, CNIs, ingress controllers, cert-manager, meshes, …): what runs, in which version.

``recognise_addons`` derives an ``AddonInventory`` from an inventory once per audit (it hangs on
``ClusterFacts.addons``); the recognition rules are data (``rules.yaml``, see ``rules.py``).
"""

from patchlevel.addons.recognise import (
    AddonInstance,
    AddonInventory,
    AddonVersion,
    ControlPlanePod,
    read_version,
    recognise_addons,
)
from patchlevel.addons.rules import AddonRule, AddonRules, ManagedRule, bundled_rules, parse_rules

__all__ = [
    "AddonInstance",
    "AddonInventory",
    "AddonRule",
    "AddonRules",
    "AddonVersion",
    "ControlPlanePod",
    "ManagedRule",
    "bundled_rules",
    "parse_rules",
    "read_version",
    "recognise_addons",
]
