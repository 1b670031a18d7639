"""Use cases, one module each, joining the domain, the store and the channels. None imports another (make lint
checks it): what two share lives in chalicelib/shared, and chalicelib/composition wires one to another."""
