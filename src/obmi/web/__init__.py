"""Web adapter: FastAPI app factory, routers and Jinja2 templates (no SQL here)."""
