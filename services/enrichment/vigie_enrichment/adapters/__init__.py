"""The enrichment service's adapters: its tables, the threat intelligence it keeps, and the feeds it reads."""
