"""The agent network: offices (internal and external), cashiers, sessions, cash top-ups, limits, commission."""
