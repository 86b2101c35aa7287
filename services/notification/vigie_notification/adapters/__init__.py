"""The notification service's adapters: its ledger tables and the channels it sends on."""
