"""What happens: one module per domain. Takes plain values, returns domain objects."""
