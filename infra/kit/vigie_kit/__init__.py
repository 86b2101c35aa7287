"""Vigie's runtime kit: one way to configure, persist, publish, consume and trace."""
