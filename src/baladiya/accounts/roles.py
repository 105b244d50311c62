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
