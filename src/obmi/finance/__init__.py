"""Finance (BBC 2020): budget lines from finance-package exports (ramingen and realisaties), the
figures per item and up the plan tree (planned vs. realised, bestedingsgraad, year-end forecast),
the reconciliation with the plan's own amounts, and the balance checks of a plan version.
Pure logic: no database, no HTTP (the store is obmi.store.finance, the operations
obmi.operations.finance)."""
