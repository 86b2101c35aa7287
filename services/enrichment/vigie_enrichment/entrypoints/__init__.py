"""Where the enrichment service meets the world: its event subscription."""
