"""Serializers every scenario-planning endpoint shares."""

from rest_framework import serializers


class BandSerializer(serializers.Serializer):
    value = serializers.FloatField()
    low = serializers.FloatField()
    high = serializers.FloatField()


def band_data(band) -> dict:
    """A model figure with its 90 % band, as plain floats."""
    return {"value": float(band.value), "low": float(band.low), "high": float(band.high)}
