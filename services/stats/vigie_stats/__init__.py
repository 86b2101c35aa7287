"""The stats service: the national observatory of incidents, live."""
