"""Streaming, strict parsers of statement files: ISO 20022 camt.053, SWIFT MT940, the gateway's settlement CSV.

``read_statements(kind, stream)`` is the one entry point; see ``base`` for what it yields and guarantees.
"""

from .base import (
    KINDS,
    ParseError,
    SettlementBatch,
    Statement,
    StatementHeader,
    StatementLine,
    StatementTrailer,
    read_statements,
)

__all__ = [
    "KINDS",
    "ParseError",
    "SettlementBatch",
    "Statement",
    "StatementHeader",
    "StatementLine",
    "StatementTrailer",
    "read_statements",
]
