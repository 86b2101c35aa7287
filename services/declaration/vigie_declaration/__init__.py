"""The declaration service: Vigie's intake and the system of record of each declaration."""
