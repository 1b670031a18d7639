"""Operator commands against the configured table (TABLE_NAME, AWS credentials or AWS_ENDPOINT_URL_DYNAMODB).

python -m chalicelib.cli create-retailer "Acme Outdoor"    prints {"id", "name", "api_key"} (key shown once)
python -m chalicelib.cli create-table                      creates the table and its indexes if missing
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from .errors import PorchlightError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-retailer", help="create a retailer and print its API key once")
    create.add_argument("name")
    commands.add_parser("create-table", help="create the DynamoDB table with its indexes, streams and TTL")
    args = parser.parse_args(argv)

    try:
        if args.command == "create-table":
            from .config import settings
            from .store.table import create_table

            create_table()
            print(json.dumps({"table": settings().table_name, "status": "ready"}))
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
