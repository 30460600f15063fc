"""The labeling bot: a GitHub App / Prow external plugin that labels issues and PRs.

Pure core (``signature``, ``events``, ``policy``, ``comment``) and thin adapters
(``store``: durable queue and records; ``app``: the ASGI receiver; ``worker``: acting
on GitHub; ``model``: in-process or remote predictions).
"""
