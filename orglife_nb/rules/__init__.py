"""Rule checks and the rule profile they read their numbers from.

Importing the package registers every rule (family modules in catalogue order: spec/rules.md).
"""
from .profile import Profile, load_profile
from .registry import RULES, Rule, get_rule, register, rule_table
from . import prep, meeting, evaluation, rectification, cadence  # noqa: E402,F401  (registration order)
from .context import Context
from .engine import counts, filter_findings, run_checks

__all__ = ["Profile", "load_profile", "RULES", "Rule", "get_rule", "register", "rule_table", "Context",
           "run_checks", "counts", "filter_findings"]
