"""Beleidsopvolging: the multi-year plan (BBC 2020) with its items, indicators (KPIs), status
reporting, roll-up and projects. Pure logic: no HTTP, no SQL (the store lives in
obmi.store.plans, the use cases in obmi.operations.plans)."""
