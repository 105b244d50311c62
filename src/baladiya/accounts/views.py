"""Staff login (rate-limited, audited) and logout (POST only)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from baladiya.accounts import services
from baladiya.core.errors import DomainError


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        # The admin sends users it refuses back to its login, which comes here: going back
        # there would loop forever. Staff without admin access land on their own screen.
        user = request.user
        if target.startswith("/admin/") and not getattr(user, "is_staff", False):
            return resolve_url(settings.LOGIN_REDIRECT_URL)
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.log_in(request, form.cleaned_data["username"], form.cleaned_data["password"])
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            status = 429 if isinstance(exc, services.LoginBlocked) else 200
        else:
            return redirect(_next_url(request))
    elif request.method == "GET" and request.user.is_authenticated:
        return redirect(_next_url(request))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.log_out(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
