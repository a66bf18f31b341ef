"""What the online top-up endpoints read and write (see ../shared/api.md)."""

from __future__ import annotations

from rest_framework import serializers

from erial.api import AmountField, StrictSerializer

from .models import Channel, OnlineTopup


class OnlineTopupIn(StrictSerializer):
    account = serializers.CharField(max_length=32)
    amount = AmountField()
    channel = serializers.ChoiceField(choices=Channel.values)


class OnlineTopupOut(serializers.ModelSerializer):
    amount = AmountField()
    account = serializers.CharField(source="wallet.number")
    #: Null until the partner's authorisation is credited; then the receipt to fetch at /receipts/{number}/.
    receipt_number = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = OnlineTopup
        fields = [
            "id",
            "reference",
            "status",
            "amount",
            "channel",
            "account",
            "receipt_number",
            "created_at",
            "expires_at",
        ]
