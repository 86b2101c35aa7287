"""Pure rules of enrichment: territory, and (later) classification and severity."""
