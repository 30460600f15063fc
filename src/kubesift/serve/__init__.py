"""``kubesift serve``: the label model behind KServe's V1/V2 protocols (see server.py)."""
