"""kubesift: mirror, chart, learn and act on a GitHub project's history."""

__version__ = "0.1.0"
