"""Pure delivery logic: no AWS, no HTTP, no clock. Everything here takes values and returns values."""
