"""Mail: Jinja2 templates rendered from a PHI-free context, sent through the outbox."""
