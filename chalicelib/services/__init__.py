"""Use cases joining the pure domain, the store and (later) the channels."""
