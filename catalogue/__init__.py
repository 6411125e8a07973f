"""The FAIR catalogue: domain model, store, services, search and exports."""

__version__ = "0.1.0"
