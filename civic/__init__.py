"""civic: resident participation and community self-help for UK councils."""
