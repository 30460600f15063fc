"""Alert triage: signals in (alerts, events, logs), only what needs a human out."""
