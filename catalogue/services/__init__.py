"""Services own the rules, permissions and transactions; they return pydantic models."""
