"""What the agent network's API endpoints read and write (see ../shared/api.md)."""

from __future__ import annotations

from rest_framework import serializers

from erial.api import AmountField, SignedAmountField, StrictSerializer

from .models import CashierSession, Office, OfficeKind


class OfficeIn(StrictSerializer):
    code = serializers.CharField(max_length=20)
    name_en = serializers.CharField(max_length=200)
    name_ar = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=OfficeKind.values)
    wilayat = serializers.CharField(max_length=100, required=False, default="")
    contact_name = serializers.CharField(max_length=200, required=False, default="")
    contact_phone = serializers.CharField(max_length=20, required=False, default="")
    daily_limit = AmountField(required=False)
    credit_limit = AmountField(required=False)


class OfficeOut(serializers.ModelSerializer):
    class Meta:
        model = Office
        fields = ["code", "kind", "status", "name_en", "name_ar", "wilayat"]


class ReasonIn(StrictSerializer):
    reason = serializers.CharField(max_length=255, required=False, default="")


class SessionOpenIn(StrictSerializer):
    opening_cash = AmountField(allow_zero=True)


class SessionCloseIn(StrictSerializer):
    counted_cash = AmountField(allow_zero=True)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class SessionOut(serializers.ModelSerializer):
    opening_cash = AmountField()
    expected_cash = AmountField(required=False)
    counted_cash = AmountField(required=False)
    difference = SignedAmountField(required=False)

    class Meta:
        model = CashierSession
        fields = [
            "id",
            "status",
            "opening_cash",
            "expected_cash",
            "counted_cash",
            "difference",
            "business_day",
            "opened_at",
            "closed_at",
        ]

    def to_representation(self, session: CashierSession) -> dict:
        data = super().to_representation(session)
        if session.status == "open":
            for field in ("expected_cash", "counted_cash", "difference", "closed_at"):
                data.pop(field, None)
        return data


class CashTopupIn(StrictSerializer):
    account = serializers.CharField(max_length=32)
    amount = AmountField()


class CashTopupOut(serializers.Serializer):
    """A cash top-up as the API answers it. Fields spelled out: a ModelSerializer derives them from the model
    on every response, twice the CPU of rendering them (the top-up is the counter's hot path)."""

    id = serializers.UUIDField(read_only=True)
    receipt_number = serializers.CharField(read_only=True)
    account = serializers.CharField(source="wallet.number", read_only=True)
    amount = AmountField(read_only=True)
    office = serializers.CharField(source="office.code", read_only=True)
    voided = serializers.BooleanField(source="is_voided", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
