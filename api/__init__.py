"""The composition root and thin HTTP adapters (REST, GraphQL) over the catalogue services."""
