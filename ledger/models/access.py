"""Portal access for holders whose wallet was opened at an office: one-time activation codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .customers import Holder


class PortalActivation(models.Model):
    """A one-time code an office hands a holder so they can make their own portal login.

    Only a keyed hash of the code is kept (the code is shown once, when issued). A holder has at most one
    live code (neither used nor revoked): issuing a new one revokes the old. Wrong guesses are counted on
    the code and lock it, so the code itself is the rate limit.
    """

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="portal_activations")
    #: HMAC-SHA256 (keyed with SECRET_KEY) of the holder and the code, hex: never the code in clear.
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    #: Set when a newer code replaced this one.
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("portal activation code")
        verbose_name_plural = _("portal activation codes")
        constraints = [
            models.UniqueConstraint(
                fields=["holder"],
                condition=Q(used_at__isnull=True, revoked_at__isnull=True),
                name="ledger_portal_activation_one_live",
            ),
        ]

    def __str__(self) -> str:
        return f"Portal activation for {self.holder} (issued {self.created_at:%Y-%m-%d})"
