"""Reconcile: keep data, models and the bot at the desired state (see ``controllers``)."""
