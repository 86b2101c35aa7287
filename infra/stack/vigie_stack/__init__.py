"""Vigie's local stack: real Kafka and PostgreSQL servers, the four services, and the demo."""
