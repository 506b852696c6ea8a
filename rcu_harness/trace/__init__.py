"""Events, interleaving excerpts and versioned trace files."""
