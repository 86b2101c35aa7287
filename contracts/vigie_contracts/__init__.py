"""Vigie's contracts: what the services agree on, defined once."""
