"""Operator commands against the configured table (TABLE_NAME, AWS credentials or AWS_ENDPOINT_URL_DYNAMODB).

python -m chalicelib.cli create-retailer "Acme Outdoor"    prints {"id", "name", "api_key"} (key shown once)
python -m chalicelib.cli issue-api-key rt_0123456789abcdef  prints a new key for a retailer that lost its keys
python -m chalicelib.cli create-table                      creates the table and its indexes if missing
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from .errors import NotFound, PorchlightError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-retailer", help="create a retailer and print its API key once")
    create.add_argument("name")
    issue = commands.add_parser("issue-api-key", help="give a retailer a new API key (its other keys keep working)")
    issue.add_argument("retailer_id")
    commands.add_parser("create-table", help="create the DynamoDB table with its indexes, streams and TTL")
    args = parser.parse_args(argv)

    try:
        if args.command == "create-table":
            from .config import settings
            from .store.table import create_table

            create_table()
            print(json.dumps({"table": settings().table_name, "status": "ready"}))
        elif args.command == "issue-api-key":
            from .services.retailers import issue_api_key
            from .store import retailers as retailer_store

            if retailer_store.get(args.retailer_id, fresh=True) is None:
                raise NotFound(f"no retailer {args.retailer_id!r}")
            api_key, described = issue_api_key(args.retailer_id, None, None, datetime.now(UTC))
            print(json.dumps({"retailer_id": args.retailer_id, **described, "api_key": api_key}))
        else:
            from .services.retailers import create_retailer

            created = create_retailer(args.name, datetime.now(UTC))
            print(json.dumps({"id": created.retailer.id, "name": created.retailer.name, "api_key": created.api_key}))
    except PorchlightError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
