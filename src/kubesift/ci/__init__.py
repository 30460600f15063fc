"""CI results: Prow runs in, TestGrid's grid, Sippy's regressions and flakes, search out."""
