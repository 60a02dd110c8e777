"""A compact synthetic omnichannel retailer (fallback generator)."""
