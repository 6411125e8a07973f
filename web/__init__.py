"""The browser UI, served as static files; it talks to the node only through its public API."""
