"""Disclosure control, applied in the query layer before any observation leaves OBMi."""
