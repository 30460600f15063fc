"""Text from outside, made safe for where it goes: a URL becomes a link only when it is
``http(s)``; text sent to Slack is escaped as Slack asks. Pure.

Imported and received data (a Prow run's ``status.url``, an alert's runbook annotation,
an Event's message, a log line) is hostile until shown otherwise: a ``javascript:`` URL
in a link runs script in the page that shows it; ``<!channel>`` in Slack markup pings a
whole channel and ``<https://evil.example|runbook>`` disguises a link.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

#: The most characters of a URL kept as a link.
MAX_URL = 2048


def http_url(value: object) -> str | None:
    """``value`` when it is an absolute ``http``/``https`` URL with a host (and no control
    characters or spaces), else None: the only URLs from data that become links."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return None
    if any(ord(c) < 0x21 or c == "\x7f" for c in value):
        return None  # browsers strip tabs and newlines: "java\tscript:" is javascript:
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def slack_text(text: object) -> str:
    """``text`` as literal Slack text: ``&``, ``<`` and ``>`` escaped (Slack's only three
    control characters), so no mention, channel ping or link can be formed from it."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: object, label: str) -> str | None:
    """A Slack link ``<url|label>`` built by kubesift, or None when ``url`` is not http(s).
    The URL's own ``|``, ``<``, ``>`` and spaces are percent-encoded so it cannot end the
    link early; the label is escaped."""
    safe = http_url(url)
    if safe is None:
        return None
    encoded = quote(safe, safe=":/?#[]@!$&'()*+,;=%~-._")
    return f"<{encoded.replace('&', '&amp;')}|{slack_text(label)}>"
