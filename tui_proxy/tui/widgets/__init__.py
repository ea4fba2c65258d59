"""One widget per file, one per console panel."""
