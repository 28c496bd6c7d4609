"""One formatter per output format."""
