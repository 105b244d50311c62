"""What an audit event's action code means, in the reader's language: the audit log shows
it beside the code (codes stay as recorded: they are what the chain's hash covers and what an
auditor searches for)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    # accounts and sign-in
    "login.succeeded": _("Staff login"),
    "login.failed": _("Failed staff login"),
    "login.blocked": _("Login blocked after too many failures"),
    "logout": _("Logout"),
    "admin.password": _("Password changed by an administrator"),
    "otp.requested": _("Login code requested"),
    "otp.verified": _("Login code accepted"),
    "otp.failed": _("Wrong login code"),
    "otp.refused": _("Login code refused"),
    "citizen.login": _("Citizen login"),
    "citizen.account_created": _("Citizen account created"),
    "citizen.registered": _("Citizen registered"),
    "citizen.profile_linked": _("Citizen account linked to the civil record"),
    "citizen.link_refused": _("Citizen account link refused"),
    "api.token_issued": _("API token issued"),
    "api.token_refused": _("API token refused"),
    "api.token_revoked": _("API token revoked"),
    "api.tokens_revoked": _("API tokens revoked"),
    # reference data
    "admin.add": _("Added in the administration"),
    "admin.change": _("Changed in the administration"),
    "admin.delete": _("Deleted in the administration"),
    "seed.homs": _("Homs reference data loaded"),
    "audit.check_requested": _("Audit log check requested"),
    "audit.chain_checked": _("Audit log checked"),
    "audit.exported": _("Audit log downloaded"),
    # applications
    "application.submitted": _("Application submitted"),
    "application.inspection_scheduled": _("Field visit scheduled"),
    "application.inspection_recorded": _("Field visit recorded"),
    # money
    "payments.session_opened": _("Drawer opened"),
    "payments.session_closed": _("Drawer counted and closed"),
    "payments.receipt_issued": _("Receipt issued"),
    "payments.refunded": _("Refund paid"),
    "payments.intent_created": _("Online payment created"),
    "payments.intent_started": _("Online payment started at the gateway"),
    "payments.intent_succeeded": _("Online payment succeeded"),
    "payments.intent_declined": _("Online payment declined"),
    "payments.intent_failed": _("Online payment failed"),
    "payments.intent_expired": _("Online payment expired"),
    "payments.intent_abandoned": _("Online payment abandoned"),
    "payments.intent_pending": _("Online payment waiting for the gateway"),
    "payments.intent_refunded": _("Online payment refunded"),
    "payments.settlement_imported": _("Gateway settlement file imported"),
    # documents
    "document.issued": _("Document issued"),
    "document.revoked": _("Document revoked"),
    "document.revocation_requested": _("Document revocation requested"),
    "signing_key.created": _("Signing key created"),
    "signing_key.rotated": _("Signing key rotated"),
    "signing_key.revoked": _("Signing key revoked"),
    # delivery
    "delivery.handed_over": _("Document handed over at the counter"),
    "post.dispatched": _("Sent by post"),
    "post.event": _("News from the post"),
    "post.event_conflict": _("Contradictory news from the post"),
    # messages
    "outbox.retried": _("Message sent again"),
    "outbox.gave_up": _("Message given up"),
    # centers and their nodes
    "center.watch_started": _("Center watch started"),
    "center.offline": _("Center offline"),
    "center.back_online": _("Center back online"),
    "center.alerted": _("Alert sent about a center"),
    "center.outage_noted": _("Outage note written"),
    "center.ticket_opened": _("Support ticket opened"),
    "center.ticket_replied": _("Support ticket answered"),
    "center.ticket_closed": _("Support ticket closed"),
    "sync.enrolment_code_created": _("Center node enrolment code created"),
    "sync.enrolled": _("Center node enrolled"),
    "sync.node_enrolled": _("Center node enrolled"),
    "sync.node_revoked": _("Center node revoked"),
    "sync.batch_applied": _("Center node's work received"),
    "sync.conflict_resolved": _("Sync conflict resolved"),
    # water
    "water.imported": _("Water establishment file imported"),
    "water.import_identical": _("Water file already imported"),
    "water.subscription_created": _("Water subscription created"),
    "water.bill_recorded": _("Water bill recorded"),
    "water.bills_paid": _("Water bills paid"),
    "water.ownership_transferred": _("Water meter ownership transferred"),
    "water.collections_sent": _("Water collections sent to the establishment"),
}


def action_label(action: str) -> str:
    """The action in words; an application's workflow step by the step's own name; the code
    itself for an action nobody has named yet."""
    from baladiya.applications.workflow import TRANSITIONS

    prefix, _dot, step = action.partition(".")
    if prefix == "application" and step in TRANSITIONS:
        return str(TRANSITIONS[step].label)
    label = ACTION_LABELS.get(action)
    return action if label is None else str(label)
