"""bankdb: the PostgreSQL database layer of a digital banking dashboard, kept as code."""

__version__ = "0.1.0"
