"""All DynamoDB access lives here: one table (DESIGN 4), reached through small repository functions."""
