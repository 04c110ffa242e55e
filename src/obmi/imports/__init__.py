"""Importers. Every import runs parse → validate → stage → commit in one transaction (runs.py)."""
