"""Staff views of BarnSäkert."""
