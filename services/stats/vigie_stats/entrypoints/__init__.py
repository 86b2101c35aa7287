"""Where the stats service meets the world: its subscription and its HTTP API."""
