"""The embedded DynamoDB of the local runtime and the tests: moto's server, made atomic per request.

moto applies a TransactWriteItems item by item and shares dictionaries between request threads, so two concurrent
transactions can interleave (seen here: a lost event item, and "dictionary changed size during iteration").
Real DynamoDB applies each request atomically; serialising requests restores that guarantee while clients still
race between their reads and their conditional writes, which is what optimistic concurrency must survive.

The same lock makes a snapshot of the table consistent (`save`/`load`, D28): it is taken between requests, so it
holds every transaction whole or not at all.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

#: DynamoDB operations that only read: anything else counts as a change worth a new snapshot.
_READS = ("Get", "Query", "Scan", "Describe", "List", "BatchGet", "TransactGet")


class _OneRequestAtATime:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self.lock = threading.Lock()
        self.writes = 0  # requests that may have changed data, for snapshots to skip an idle table

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
        with self.lock:
            if not operation.startswith(_READS):
                self.writes += 1
            return list(self._app(environ, start_response))


class EmbeddedDynamoDB:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app: _OneRequestAtATime | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns useful output
        install_fast_paths()
        app = self._app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        # A short poll: stop() (every test's server, each devserver exit) waits up to one interval for the loop.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="embedded-dynamodb", daemon=True
        )
        self._thread.start()
        return self.endpoint

    @property
    def writes(self) -> int:
        """How many requests so far could have changed data (a snapshot is needed only when this moved)."""
        return self._app.writes if self._app is not None else 0

    def save(self, table_name: str, path: Path) -> int:
        """Write every item of the table to `path` (one JSON item per line, DynamoDB's wire format), atomically:
        a temporary file beside it, flushed to disk, then renamed over it. Taken between requests. Returns the
        number of items."""
        assert self._app is not None, "start() first"
        with self._app.lock:
            table = _backend_table(table_name)
            items = [item.to_json()["Attributes"] for item in _stored_items(table)]  # fresh dicts: JSON outside
        lines = [json.dumps(item, separators=(",", ":")) for item in items]
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as out:
            out.write("\n".join(lines) + ("\n" if lines else ""))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        return len(lines)

    def load(self, table_name: str, path: Path) -> int:
        """Put every item saved by `save` back into the (existing, empty) table; returns how many."""
        assert self._app is not None, "start() first"
        count = 0
        with self._app.lock, path.open(encoding="utf-8") as saved:
            table = _backend_table(table_name)
            for line in saved:
                if line.strip():
                    table.put_item(json.loads(line), overwrite=True)
                    count += 1
            table.__dict__.pop("_porchlight_candidates", None)  # rebuilt from the loaded items on the next query
        return count

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _backend_table(table_name: str) -> Any:
    """moto's in-memory table of that name, whichever account and region created it."""
    from moto.dynamodb.models import dynamodb_backends

    for account in list(dynamodb_backends.values()):
        for backend in list(account.values()):
            if table_name in backend.tables:
                return backend.tables[table_name]
    raise LookupError(f"no table {table_name!r} in the embedded DynamoDB")


# --- Keeping moto fast as the table grows (D28) ---------------------------------------------------------------------
#
# moto 5 answers every Query by sorting every item of the table (then filtering by key), and backs up a
# TransactWriteItems by deep-copying the whole table once per item of the transaction: both grow with the table, so
# the local runtime slowed to a stop at a few thousand shipments. The two paths below keep moto's own semantics
# (the same filtering, ordering, conditions and error answers: moto's code still runs) and change only what it is
# given: a Query starts from the items whose key can match, and a transaction backs up the items it names.

_transaction = threading.local()


class _Candidates:
    """Per table: the items of each partition of each GSI's hash attribute, kept in step with every write."""

    def __init__(self, table: Any) -> None:
        self.attrs = _gsi_hash_attrs(table)
        self.by_attr: dict[str, dict[Any, dict[tuple[Any, Any], Any]]] = {attr: {} for attr in self.attrs}
        self.placed: dict[tuple[Any, Any], dict[str, Any]] = {}
        for item in _stored_items(table):
            self.place(item.hash_key, item.range_key, item)

    def place(self, hash_key: Any, range_key: Any, item: Any | None) -> None:
        key = (hash_key, range_key)
        for attr, value in self.placed.pop(key, {}).items():
            partition = self.by_attr[attr].get(value)
            if partition is not None:
                partition.pop(key, None)
                if not partition:
                    del self.by_attr[attr][value]
        if item is None:
            return
        placed = {attr: item.attrs[attr] for attr in self.attrs if attr in item.attrs}
        for attr, value in placed.items():
            self.by_attr[attr].setdefault(value, {})[key] = item
        if placed:
            self.placed[key] = placed


def _gsi_hash_attrs(table: Any) -> tuple[str, ...]:
    return tuple(
        sorted(
            {key["AttributeName"] for index in table.global_indexes for key in index.schema if key["KeyType"] == "HASH"}
        )
    )


def _stored_items(table: Any) -> Iterator[Any]:
    for stored in table.items.values():
        if table.range_key_attr:
            yield from stored.values()
        else:
            yield stored


def _candidates(table: Any) -> _Candidates:
    index = table.__dict__.get("_porchlight_candidates")
    if index is None or index.attrs != _gsi_hash_attrs(table):  # first use, or the table's indexes changed
        index = table.__dict__["_porchlight_candidates"] = _Candidates(table)
    return index


def _stored(table: Any, hash_key: Any, range_key: Any) -> Any | None:
    if table.range_key_attr:
        return table.items.get(hash_key, {}).get(range_key)
    return table.items.get(hash_key)


def _key_of(table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any] | None:
    """The (hash, range) an operation of a write names, as moto reads it; None when it names none (moto refuses)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    attrs = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None
    if table.range_key_attr and table.range_key_attr not in attrs:
        return None
    range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return DynamoType(attrs[table.hash_key_attr]), range_key


def _reindex(backend: Any, table_name: str, op_type: str, op: dict[str, Any]) -> None:
    table = backend.tables.get(table_name)
    key = _key_of(table, op_type, op) if table is not None else None
    if key is not None and "_porchlight_candidates" in table.__dict__:
        _candidates(table).place(*key, _stored(table, *key))


def _sorted_like_moto(items: Iterable[Any]) -> list[Any]:
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def install_fast_paths() -> None:
    """Patch moto's DynamoDB (once per process) with the two paths above."""
    from moto.dynamodb import models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend, "_porchlight_fast", False):
        return
    DynamoDBBackend._porchlight_fast = True  # type: ignore[attr-defined]

    # Queries: moto filters "all items" by key; hand it only those that can match.
    all_items, query = Table.all_items, Table.query

    def narrowed_all_items(self: Any) -> list[Any]:
        narrowed = getattr(_transaction, "narrowed", None)
        if narrowed is not None and narrowed[0] is self:
            _transaction.narrowed = None
            return _sorted_like_moto(narrowed[1])
        return all_items(self)

    def narrowed_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") if len(args) < 7 else args[6]
        conditions = kwargs.get("hash_key_conditions") or []
        if not index_name and hash_key is not None:
            stored = self.items.get(hash_key)
            candidates = [] if stored is None else list(stored.values()) if self.range_key_attr else [stored]
        elif index_name and len(conditions) == 1 and conditions[0][0] in _candidates(self).attrs:
            attr, value = conditions[0]
            candidates = list(_candidates(self).by_attr[attr].get(value, {}).values())
        else:
            return query(self, hash_key, *args, **kwargs)
        _transaction.narrowed = (self, candidates)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _transaction.narrowed = None

    Table.all_items = narrowed_all_items  # type: ignore[method-assign]
    Table.query = narrowed_query  # type: ignore[method-assign]

    # Writes keep the candidates in step.
    put_item, update_item, delete_item = (
        DynamoDBBackend.put_item,
        DynamoDBBackend.update_item,
        DynamoDBBackend.delete_item,
    )

    def indexed_put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return put_item(self, table_name, item_attrs, *args, **kwargs)
        finally:
            _reindex(self, table_name, "Put", {"Item": item_attrs})

    def indexed_update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            _reindex(self, table_name, "Update", {"Key": key})

    def indexed_delete_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return delete_item(self, table_name, key, *args, **kwargs)
        finally:
            _reindex(self, table_name, "Delete", {"Key": key})

    DynamoDBBackend.put_item = indexed_put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = indexed_update_item  # type: ignore[method-assign]
    DynamoDBBackend.delete_item = indexed_delete_item  # type: ignore[method-assign]

    # Transactions: moto backs up each named table with copy.deepcopy and puts the backup back when one item fails.
    # Its module's `copy` becomes one whose deepcopy of a table, during a transaction, is the table itself (so
    # moto's restore is a no-op), and the items the transaction names are backed up and restored here instead.
    class _BackupByItem:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            if isinstance(value, Table) and getattr(_transaction, "active", False):
                return value
            return copy.deepcopy(value, memo)

    backend_module.copy = _BackupByItem()  # type: ignore[assignment]
    transact_write_items = DynamoDBBackend.transact_write_items

    def item_backed_transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        named: list[tuple[Any, tuple[Any, Any], Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items[:100] if isinstance(transact_items, list) else []:
            if not isinstance(entry, dict) or len(entry) != 1:
                continue
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = _key_of(table, op_type, op) if table is not None else None
            if table is None or key is None:
                continue
            named.append((table, key, copy.deepcopy(_stored(table, *key))))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        _transaction.active = True
        try:
            transact_write_items(self, transact_items)
        except BaseException:
            for table, (hash_key, range_key), before in reversed(named):
                if before is not None:
                    if table.range_key_attr:
                        table.items[hash_key][range_key] = before
                    else:
                        table.items[hash_key] = before
                elif table.range_key_attr:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items.pop(hash_key, None)
            for shard, length in streams.values():  # a cancelled transaction leaves no stream records
                del shard.items[length:]
            raise
        finally:
            _transaction.active = False
            for table, key, _ in named:
                if "_porchlight_candidates" in table.__dict__:
                    _candidates(table).place(*key, _stored(table, *key))

    DynamoDBBackend.transact_write_items = item_backed_transact_write_items  # type: ignore[method-assign]
