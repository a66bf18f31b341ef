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

    class Meta:
        model = OnlineTopup
        fields = ["id", "reference", "status", "amount", "channel", "account", "created_at", "expires_at"]
