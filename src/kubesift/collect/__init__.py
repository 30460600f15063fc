"""Collectors that turn outside data into kubesift records."""
