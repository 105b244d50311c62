"""Staff roles. A user holds one or more roles (Django groups of the same name).

Clerks and cashiers are bound to one center; a supervisor with a center sees only that center,
without one the whole network. Officers work the back office (optionally one agency).
Auditors read everything and change nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CLERK = "clerk"
CASHIER = "cashier"
SUPERVISOR = "supervisor"
OFFICER = "officer"
ADMIN = "admin"
AUDITOR = "auditor"
FINANCE = "finance"  # reconciles gateway settlement files (online payments)

ROLE_LABELS = {
    CLERK: _("Clerk"),
    CASHIER: _("Cashier"),
    SUPERVISOR: _("Supervisor"),
    OFFICER: _("Directorate officer"),
    ADMIN: _("Administrator"),
    AUDITOR: _("Auditor"),
    FINANCE: _("Finance officer"),
}
ALL_ROLES = tuple(ROLE_LABELS)
CENTER_BOUND_ROLES = frozenset({CLERK, CASHIER})

# Not a staff role: the applicant themself, through a citizen portal account (OTP login, no
# group, no password). It only appears in `applications.workflow` on the few steps a citizen
# may take on their own application; `accounts.permissions.citizen_refusal` holds the rule. It
# is deliberately not in ALL_ROLES, so no group (not even one named "citizen") ever grants it.
CITIZEN = "citizen"
