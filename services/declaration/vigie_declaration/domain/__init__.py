"""Pure rules of a declaration's life: no I/O here."""
