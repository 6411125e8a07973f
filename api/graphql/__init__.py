"""The GraphQL adapter: strawberry types over the catalogue services."""
