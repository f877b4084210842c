"""Small diagnostic tools that sit directly on the RPC layer."""
