"""The experiments behind the three papers' claims (see ``flows.paper``)."""
