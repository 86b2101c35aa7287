"""The declaration service's adapters: its tables."""
