"""Pure rules of the observatory: what is counted and along which dimensions."""
