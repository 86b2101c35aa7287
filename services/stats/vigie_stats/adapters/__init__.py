"""The stats service's adapters: its tables and the credentials it checks."""
