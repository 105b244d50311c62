"""Staff: issue, download, revoke. Public (no login): verify by number, QR link or PDF upload,
and the published keys. The public pages answer every input with a verdict, never a 500."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

# Staff screens: the staff rule only (a citizen downloads through the portal, which also
# checks that the service lets citizens download the signed document).
from baladiya.accounts.permissions import staff_can_view_application as can_view_application
from baladiya.applications.models import Application
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.uploads import sniff
from baladiya.documents import services, signing
from baladiya.documents.models import IssuedDocument
from baladiya.sync import capture

VERIFY_MAX_BYTES = 5 * 1024 * 1024


def _forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


# ---------------------------------------------------------------- staff


@login_required
@require_POST
def issue(request: HttpRequest, reference: str) -> HttpResponse:
    app = get_object_or_404(
        Application.objects.select_related("service__agency", "applicant", "center"),
        reference=reference,
    )
    if not can_view_application(request.user, app):
        return _forbidden(request)
    try:
        doc = services.issue_document(app, request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Document %(number)s issued and signed.") % {"number": doc.number},
        )
    return redirect("applications:detail", reference=app.reference)


@login_required
@require_GET
def pdf(request: HttpRequest, number: str) -> HttpResponse:
    doc = get_object_or_404(IssuedDocument.objects.select_related("application"), number=number)
    if not can_view_application(request.user, doc.application):
        return _forbidden(request, _("You may not see this document."))
    response = HttpResponse(bytes(doc.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{doc.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f'"{doc.pdf_sha256}"'
    return response


@login_required
def revoke(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the form (reason required). POST: revoke, back to the application."""
    doc = get_object_or_404(
        IssuedDocument.objects.defer("pdf").select_related("application", "center"),
        number=number,
    )
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if not can_view_application(request.user, doc.application):
        return _forbidden(request, _("You may not see this document."))
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        queued = capture.is_center_node()
        try:
            if queued:
                services.request_revocation(doc, request.user, reason)  # type: ignore[arg-type]
            else:
                services.revoke_document(doc, request.user, reason)  # type: ignore[arg-type]
        except NotAllowed as exc:
            return _forbidden(request, str(exc.message))
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return render(
                request,
                "documents/revoke.html",
                {"doc": doc, "reason": reason[:250], "allowed": True},
                status=400,
            )
        if queued:
            messages.warning(
                request,
                _(
                    "The revocation of %(number)s was sent to the central node with the next "
                    "sync; the document stays valid until it is carried out there."
                )
                % {"number": doc.number},
            )
        else:
            messages.success(
                request, _("Document %(number)s was revoked.") % {"number": doc.number}
            )
        return redirect("applications:detail", reference=doc.application.reference)
    allowed = services.can_revoke(request.user, doc)
    if not allowed and doc.state == IssuedDocument.State.VALID:
        return _forbidden(request, _("Your role does not allow revoking documents."))
    return render(request, "documents/revoke.html", {"doc": doc, "allowed": allowed})


# ---------------------------------------------------------------- public verification


def verify_lookup(request: HttpRequest) -> HttpResponse:
    """The public start page: type a number, or upload the PDF."""
    raw = request.GET.get("number")
    error = ""
    if raw is not None:
        number = services.clean_number(raw)
        if services.is_document_number(number):
            return redirect("verify:detail", number=number)
        error = _("This is not a document number. It looks like C03-D26-000017.")
    return render(
        request,
        "documents/verify_lookup.html",
        {"number": (raw or "")[:40], "error": error, "max_bytes": VERIFY_MAX_BYTES},
        status=400 if error else 200,
    )


def verify_detail(request: HttpRequest, number: str) -> HttpResponse:
    payload = request.GET.get("p")
    if payload:
        verdict = services.verify_payload(payload, number)
        source = "qr"
    else:
        verdict = services.verify_number(number)
        source = "number"
    return _verdict_page(request, verdict, source)


def verify_upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("verify:lookup")
    upload = request.FILES.get("file")
    error = ""
    content = b""
    if upload is None:
        error = _("Choose the PDF file of the document.")
    elif upload.size is None or upload.size > VERIFY_MAX_BYTES:
        error = _("The file is too large (at most 5 MB).")
    else:
        content = upload.read(VERIFY_MAX_BYTES + 1)
        if len(content) > VERIFY_MAX_BYTES:
            error = _("The file is too large (at most 5 MB).")
        elif sniff(content[:16]) != "application/pdf":
            error = _("Only PDF files can be checked here.")
    if error:
        return render(
            request,
            "documents/verify_lookup.html",
            {"upload_error": error, "max_bytes": VERIFY_MAX_BYTES},
            status=400,
        )
    return _verdict_page(request, services.verify_pdf(content), "pdf")


def _verdict_page(request: HttpRequest, verdict: services.Verdict, source: str) -> HttpResponse:
    response = render(
        request,
        "documents/verdict.html",
        {"verdict": verdict, "source": source, "keys_url": reverse("public_keys")},
    )
    # A verdict changes when a document is revoked: never serve it from a cache.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the payload in the URL stays here
    return response


@require_GET
@cache_control(public=True, max_age=300)
def public_keys(request: HttpRequest) -> JsonResponse:
    """`/.well-known/baladiya/keys.json`: every public key, current and retired."""
    response = JsonResponse(signing.public_keys(), safe=False)
    response["Access-Control-Allow-Origin"] = "*"  # any verifier may fetch the keys
    response["X-Baladiya-Node"] = settings.BALADIYA_NODE
    return response
