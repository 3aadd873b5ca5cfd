"""The demo académie: relying parties (ENT, Arena), embedded mail server, rundemo and seed.

Not part of the product: an académie's deployment leaves it out (docs/architecture.md).
"""
