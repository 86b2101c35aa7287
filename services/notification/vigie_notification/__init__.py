"""The notification service: every ARS and CERT Santé told, once per revision and channel."""
