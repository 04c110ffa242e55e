"""Indicator catalogue, periods, formulas, aggregation and derivation."""
