"""Versioned geography: levels, areas, hierarchy, version mappings and geometry."""
