"""``switchboard doctor``: what is installed where, and what is wrong, each problem with a concrete fix.

``base`` defines a check, ``checks`` holds the checks and their order, ``providers`` the providers' check.
"""

from server.doctor.base import Check, CheckFunction, DoctorContext
from server.doctor.checks import CHECKS, check_hook_scripts, run_checks

__all__ = ["CHECKS", "Check", "CheckFunction", "DoctorContext", "check_hook_scripts", "run_checks"]
