"""UTM tagging: the naming convention new campaigns start from, and tracked links built from it."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def suggest(*, channel, code: str) -> dict[str, str]:
    """The convention: source = the channel's code, medium = its channel group, campaign = the campaign code."""
    return {
        "utm_source": channel.slug if channel else "",
        "utm_medium": channel.group if channel else "",
        "utm_campaign": code,
    }


def tracked_url(landing_url: str, **utm: str) -> str:
    """``landing_url`` with the non-empty UTM parameters set (replacing any it already carries);
    its other query parameters and fragment are kept as they were."""
    parts = urlsplit(landing_url)
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in UTM_FIELDS]
    tags = [(field, utm[field].strip()) for field in UTM_FIELDS if utm.get(field, "").strip()]
    return urlunsplit(parts._replace(query=urlencode(kept + tags)))
