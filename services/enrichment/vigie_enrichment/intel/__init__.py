"""Threat intelligence: read from MISP feeds, STIX bundles and the CISA KEV catalog, kept in the
enrichment database, and matched against the indicators of each declaration."""
