"""The web dashboard (``kubesift web``): pages over the store and the model registries,
and the JSON API behind them."""
