"""Click commands of the ``rtsa-dse`` CLI, one module per command group (I/O lives here only)."""
