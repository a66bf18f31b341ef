"""Online top-ups through the partner bank and the national card gateway, and their signed callbacks."""
