"""PynamoDB models of the one table: its key schema and indexes, and the item types the repositories write.

Every item type shares `pk`/`sk` and the table; the sort key says which type an item is (STATE, EVENT#..,
OUTBOX#.., LISTING, ...), so a query over a partition or the `by_token` index reads raw items and hands each to
the model its sort key names (`table.rows` and `from_raw_data`), with no discriminator attribute on disk.
The table name comes from settings at runtime: every model answers through the one connection `table.py` keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb import constants
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from . import table
from .table import GSI_DUE, GSI_LOG, GSI_PROVIDER_MESSAGE, GSI_RETAILER, GSI_TOKEN, GSI_TRACKING, TTL_ATTRIBUTE


def ttl(stamp: str, days: int | None = None) -> datetime:
    """When an item last changed at `stamp` expires (RETENTION_DAYS later), as the TTL attribute takes it."""
    return datetime.fromtimestamp(table.expires_at(stamp, days), UTC)


class TableItem(Model):
    """What every item on the table has: its key and when DynamoDB may delete it."""

    class Meta:
        table_name = "porchlight-local"  # replaced by `bind` with settings().table_name before any request

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = TTLAttribute(null=True, attr_name=TTL_ATTRIBUTE)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        return table.table_connection()


def bind(name: str) -> None:
    """Point every model at the table `name` (batch operations read it from Meta)."""
    TableItem.Meta.table_name = name


# The indexes, declared once on the schema model: `create_table` and the connection's table description read them.


class _ByTracking(GlobalSecondaryIndex["TableSchema"]):
    class Meta:
        index_name = GSI_TRACKING
        projection = AllProjection()

    tracking_lookup = UnicodeAttribute(hash_key=True)
    carrier = UnicodeAttribute(range_key=True)


class _ByToken(GlobalSecondaryIndex["TableSchema"]):
    class Meta:
        index_name = GSI_TOKEN
        projection = AllProjection()

    tracking_token = UnicodeAttribute(hash_key=True)


class _ByProviderMessage(GlobalSecondaryIndex["TableSchema"]):
    class Meta:
        index_name = GSI_PROVIDER_MESSAGE
        projection = AllProjection()

    provider_message_id = UnicodeAttribute(hash_key=True)


class _ByDue(GlobalSecondaryIndex["TableSchema"]):
    class Meta:
        index_name = GSI_DUE
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class _ByRetailer(GlobalSecondaryIndex["TableSchema"]):
    class Meta:
        index_name = GSI_RETAILER
        projection = AllProjection()

    retailer_index = UnicodeAttribute(hash_key=True)
    retailer_sort = UnicodeAttribute(range_key=True)


class _ByLog(GlobalSecondaryIndex["TableSchema"]):
    """Every notification of a retailer by when it was planned (store.notification_log). Keys only: an entry is
    written once, when the notification is created; its status changes touch no projected attribute, so they
    write nothing to this index, and a listing reads the items themselves in one batch."""

    class Meta:
        index_name = GSI_LOG
        projection = KeysOnlyProjection()

    log_index = UnicodeAttribute(hash_key=True)
    log_sort = UnicodeAttribute(range_key=True)


class TableSchema(TableItem):
    """The table as a whole: its key, every index (all sparse; all but `by_log` projecting whole items) and TTL."""

    by_tracking = _ByTracking()
    by_token = _ByToken()
    by_provider_message = _ByProviderMessage()
    by_due = _ByDue()
    by_retailer = _ByRetailer()
    by_log = _ByLog()

    @classmethod
    def meta_table_data(cls, name: str) -> dict[str, Any]:
        """The table description PynamoDB's connection needs to build key conditions (no DescribeTable call)."""
        schema = cls._get_schema()
        return {
            constants.TABLE_NAME: name,
            constants.KEY_SCHEMA: schema["key_schema"],
            constants.ATTR_DEFINITIONS: schema["attribute_definitions"],
            constants.GLOBAL_SECONDARY_INDEXES: [
                {constants.INDEX_NAME: index["index_name"], constants.KEY_SCHEMA: index["key_schema"]}
                for index in schema["global_secondary_indexes"]
            ],
            constants.LOCAL_SECONDARY_INDEXES: [],
        }

    @classmethod
    def create(cls, *, stream: bool) -> None:
        schema = cls._get_schema()
        connection = cls._get_connection()
        connection.create_table(
            attribute_definitions=schema["attribute_definitions"],
            key_schema=schema["key_schema"],
            global_secondary_indexes=schema["global_secondary_indexes"],
            billing_mode=constants.PAY_PER_REQUEST_BILLING_MODE,
            stream_specification={"stream_enabled": True, "stream_view_type": "NEW_AND_OLD_IMAGES"} if stream else None,
        )
        connection.connection.client.get_waiter("table_exists").wait(
            TableName=connection.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        connection.update_time_to_live(TTL_ATTRIBUTE)

    @classmethod
    def add_missing_indexes(cls) -> None:
        """Create the indexes an existing table lacks, one at a time (DynamoDB adds one per UpdateTable)."""
        schema = cls._get_schema()
        connection = cls._get_connection()
        client = connection.connection.client
        present = {
            index["IndexName"]
            for index in client.describe_table(TableName=connection.table_name)["Table"].get(
                "GlobalSecondaryIndexes", []
            )
        }
        for index in schema["global_secondary_indexes"]:
            if index["index_name"] in present:
                continue
            client.update_table(
                TableName=connection.table_name,
                AttributeDefinitions=index["attribute_definitions"],
                GlobalSecondaryIndexUpdates=[
                    {
                        "Create": {
                            "IndexName": index["index_name"],
                            "KeySchema": index["key_schema"],
                            "Projection": index["projection"],
                        }
                    }
                ],
            )


# Shipment partitions (SHIP#<id>): the state, its scans, its outbox, its listing entries.


class _ShipmentsByTracking(GlobalSecondaryIndex["ShipmentState"]):
    class Meta:
        index_name = GSI_TRACKING
        projection = AllProjection()

    tracking_lookup = UnicodeAttribute(hash_key=True)
    carrier = UnicodeAttribute(range_key=True)


class ShipmentState(TableItem):
    """sk STATE: the shipment's current state; `version` makes every write conditional on the one read before it."""

    by_tracking = _ShipmentsByTracking()

    retailer_id = UnicodeAttribute()
    carrier = UnicodeAttribute()
    tracking_number = UnicodeAttribute()
    tracking_lookup = UnicodeAttribute()
    tracking_token = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    claimed = BooleanAttribute(default=False)
    version = VersionAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    doc = UnicodeAttribute()


class _PositionsByTracking(GlobalSecondaryIndex["LivePosition"]):
    class Meta:
        index_name = GSI_TRACKING
        projection = AllProjection()

    tracking_lookup = UnicodeAttribute(hash_key=True)
    carrier = UnicodeAttribute(range_key=True)


class LivePosition(TableItem):
    """sk LIVE: the driver's newest position for one shipment (DESIGN 3.8), never part of the scan history.

    It carries the token (the shopper's page reads it in its one `by_token` query) and the tracking lookup (a
    position batch finds the shipment and this item in one `by_tracking` query)."""

    by_tracking = _PositionsByTracking()

    retailer_id = UnicodeAttribute()
    carrier = UnicodeAttribute()
    tracking_lookup = UnicodeAttribute()
    tracking_token = UnicodeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    #: Canonical UTC text with milliseconds: the write condition compares it as text.
    recorded_at = UnicodeAttribute()
    stops_before = NumberAttribute(null=True)
    eta = UnicodeAttribute(null=True)
    close_notified = BooleanAttribute(null=True)
    written_at = UnicodeAttribute()


class ShipmentEvent(TableItem):
    """sk EVENT#<when>#<fingerprint>: one carrier scan, carrying the token so the shopper's page finds it."""

    doc = UnicodeAttribute()
    received_at = UnicodeAttribute(null=True)
    tracking_token = UnicodeAttribute(null=True)


class RetailerListing(TableItem):
    """A shipment's entry in one of its retailer's `by_retailer` listings (sk LISTING: by status; CHANGES: feed)."""

    retailer_id = UnicodeAttribute()
    retailer_index = UnicodeAttribute()
    retailer_sort = UnicodeAttribute()


class StalledEntry(TableItem):
    """sk STALLED#<reason>: a parcel the stall watch found stalled, in its retailer's `by_retailer` listing (D45)."""

    retailer_id = UnicodeAttribute()
    retailer_index = UnicodeAttribute()
    retailer_sort = UnicodeAttribute()
    reason = UnicodeAttribute()
    #: The scan it was stalled at: a later scan means it moved on (compared when listed).
    last_event_at = UnicodeAttribute()


class OrderEntry(TableItem):
    """pk ORDER#<retailer>#<order>, sk SHIP#<id>: how a shopper finds a shipment by order number and contact."""

    tracking_token = UnicodeAttribute()
    created_at = UnicodeAttribute()
    contacts = UnicodeSetAttribute(null=True)


class Outbox(TableItem):
    """sk OUTBOX#<kind>#<channel>: one notification, from intent to provider status (store.notifications)."""

    retailer_id = UnicodeAttribute(null=True)
    shipment_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    fallback = BooleanAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    preview = UnicodeAttribute(null=True)
    doc = UnicodeAttribute(null=True)
    unsubscribe_token = UnicodeAttribute(null=True)
    manual_retries = NumberAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)
    retried_at = UnicodeAttribute(null=True)
    provider_status_at = UnicodeAttribute(null=True)
    relay_number = UnicodeAttribute(null=True)
    #: Chat messages carry the shipment's token, so the shopper's page reads them in its one `by_token` query.
    tracking_token = UnicodeAttribute(null=True)
    #: A failed notification's place in its retailer's `by_retailer` listing.
    retailer_index = UnicodeAttribute(null=True)
    retailer_sort = UnicodeAttribute(null=True)
    #: Its place in the retailer's notification log (`by_log`), set when it is created.
    log_index = UnicodeAttribute(null=True)
    log_sort = UnicodeAttribute(null=True)


# Relay (store.relay): a shipment's chat session and the routes that map (relay number, phone) to it.


class RelaySession(TableItem):
    """pk SHIP#<id>, sk RELAY: the open chat session, carrying the token for the shopper's page."""

    doc = UnicodeAttribute()
    tracking_token = UnicodeAttribute(null=True)


class RelayRoute(TableItem):
    """pk RELAY#<relay number>#<phone>, sk <shipment id>: which session a text to that number from that phone joins."""

    role = UnicodeAttribute()
    active_until = UnicodeAttribute()


# Small item types: analytics sign-ins, lookup counters, ignored webhooks, day counters.


class AnalyticsSession(TableItem):
    """pk SESSION#<sha256 of the session id>, sk ANALYTICS: a signed-in analytics page, gone with its TTL."""

    retailer_id = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()


class LookupCounter(TableItem):
    """pk LIMIT#<scope>#<subject>, sk LOOKUP#<hour>: attempts at a guess-bounded lookup in one hour (D25)."""

    attempts = NumberAttribute(null=True, attr_name="count")


class IgnoredWebhook(TableItem):
    """pk RETAILER#<id>, sk IGNORED#<when>#<digest>: a delivery that was accepted but held no scan."""

    retailer_index = UnicodeAttribute()
    retailer_sort = UnicodeAttribute()
    source = UnicodeAttribute()
    received_at = UnicodeAttribute()
    reasons = ListAttribute(of=MapAttribute)
    body_sha256 = UnicodeAttribute()


class DayCounters(TableItem):
    """pk STATS#<retailer>, sk DAY#<day>: counters and labels whose names are data (updated through `Path`)."""


# What shoppers told us about being contacted (store.contacts).


class OptOut(TableItem):
    """pk OPTOUT#<phone>, sk RETAILER#<scope>: a STOP for one retailer, every retailer (*) or the relay."""

    created_at = UnicodeAttribute()
    source = UnicodeAttribute(null=True)


class Suppression(TableItem):
    """pk SUPPRESS#<email>, sk RETAILER#<scope>: an address no email goes to for that scope."""

    created_at = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)


class SuppressionLift(TableItem):
    """pk SUPPRESS#<email>, sk LIFT#<retailer>: one retailer excused from an every-retailer suppression."""

    of_created_at = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


class SuppressionAudit(TableItem):
    """pk SUPPRESS#<email>, sk AUDIT#<when>#<nonce>: one line of the address's history (never expires)."""

    at = UnicodeAttribute()
    action = UnicodeAttribute()
    scope = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    for_retailer = UnicodeAttribute(null=True)
    lifted_reason = UnicodeAttribute(null=True)
    key_id = UnicodeAttribute(null=True)
    key_prefix = UnicodeAttribute(null=True)


class SmsSender(TableItem):
    """pk SMSLAST#<phone>, sk LAST: the retailer that texted this phone last (a STOP applies to it)."""

    retailer_id = UnicodeAttribute()
    shipment_id = UnicodeAttribute()
    at = UnicodeAttribute()
    #: The kind of that last text: a STOP, or a visit without the e-mail's marker, is credited to it (D45).
    kind = UnicodeAttribute(null=True)


class UnsubscribeLink(TableItem):
    """pk UNSUB#<token>, sk EMAIL: where an email's unsubscribe link leads."""

    retailer_id = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = UnicodeAttribute()
    #: The e-mail the link was in, so an unsubscribe is counted against its kind (D45).
    shipment_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)


class Sighting(TableItem):
    """pk SEEN#<namespace>#<event id>, sk SEEN: a provider event already applied (at-least-once callbacks)."""


# Retailers (store.retailers): the profile, API keys and the retailer's own list of them, template overrides.


class RetailerProfile(TableItem):
    """pk RETAILER#<id>, sk PROFILE: name, webhook secrets by source (`integrations`), settings and brand (JSON)."""

    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    #: source -> secret, plus the outbound signing secret and the previous one with when it stops signing.
    integrations = MapAttribute(null=True)  # type: ignore[var-annotated]  # raw: its keys are data
    settings_doc = UnicodeAttribute(null=True)
    branding_doc = UnicodeAttribute(null=True)


class ApiKeyItem(TableItem):
    """pk APIKEY#<sha256 of the key>, sk RETAILER: what a Bearer key authenticates as (`expires_at`: retired)."""

    retailer_id = UnicodeAttribute()
    key_prefix = UnicodeAttribute()
    created_at = UnicodeAttribute()


class KeyMirror(TableItem):
    """pk RETAILER#<id>, sk APIKEY#<sha256>: the retailer's own list of its keys, written with each key item."""

    retailer_id = UnicodeAttribute()
    key_prefix = UnicodeAttribute()
    created_at = UnicodeAttribute()


class RetailerTemplate(TableItem):
    """pk RETAILER#<id>, sk TEMPLATE#<kind>#<channel>#<locale>: the retailer's own wording of one message."""

    body = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


# Surveys (store.surveys): the survey, its low-score listing copy, and the phone's pointer to it.


class _SurveysByRetailer(GlobalSecondaryIndex["Survey"]):
    class Meta:
        index_name = GSI_RETAILER
        projection = AllProjection()

    retailer_index = UnicodeAttribute(hash_key=True)
    retailer_sort = UnicodeAttribute(range_key=True)


class Survey(TableItem):
    """pk SHIP#<id>, sk SURVEY: the shipment's facts (copied, so listings need no joins), the answer, the comment
    (`comment_rev` counts its versions), how it was sent and escalated; answered ones are in `by_retailer`."""

    retailer_id = UnicodeAttribute(null=True)
    shipment_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    carrier = UnicodeAttribute(null=True)
    driver = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    promised_date = UnicodeAttribute(null=True)
    tracking_token = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    sent_via = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    answered_via = UnicodeAttribute(null=True)
    answered_at = UnicodeAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    comment_rev = NumberAttribute(null=True)
    comment_at = UnicodeAttribute(null=True)
    follow_up_at = UnicodeAttribute(null=True)
    reasons = UnicodeAttribute(null=True)  # JSON list
    clarified = BooleanAttribute(null=True)
    escalation = UnicodeAttribute(null=True)
    escalated_at = UnicodeAttribute(null=True)
    escalated_comment_rev = NumberAttribute(null=True)
    retailer_index = UnicodeAttribute(null=True)
    retailer_sort = UnicodeAttribute(null=True)

    by_retailer = _SurveysByRetailer()


class _LowScoresByRetailer(GlobalSecondaryIndex["LowScore"]):
    class Meta:
        index_name = GSI_RETAILER
        projection = AllProjection()

    retailer_index = UnicodeAttribute(hash_key=True)
    retailer_sort = UnicodeAttribute(range_key=True)


class LowScore(TableItem):
    """pk SHIP#<id>, sk SURVEYLOW: a low score's copy in its retailer's `by_retailer` low-score listing."""

    shipment_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    carrier = UnicodeAttribute(null=True)
    driver = UnicodeAttribute(null=True)
    tracking_token = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    answered_at = UnicodeAttribute(null=True)
    answered_via = UnicodeAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    retailer_index = UnicodeAttribute(null=True)
    retailer_sort = UnicodeAttribute(null=True)

    by_retailer = _LowScoresByRetailer()


class SurveyWait(TableItem):
    """pk SURVEYWAIT#<phone>, sk <asked at>#<shipment id>: a survey this phone was asked and may answer `until`."""

    shipment_id = UnicodeAttribute()
    until = UnicodeAttribute()


# Messages kept as they were (store.kept_messages): shoppers' texts to us, the local outbox's captures.


class InboundText(TableItem):
    """pk INBOUND#<phone>, sk <when>#<message sid>: every text a shopper sent us, whatever was done with it."""

    retailer_id = UnicodeAttribute()
    to = UnicodeAttribute()
    doc = UnicodeAttribute()  # JSON: body, media, handled_as


class DevOutboxMessage(TableItem):
    """pk DEVOUTBOX, sk <when>#<message id>: a message the local outbox kept instead of sending (/dev/outbox)."""

    kind = UnicodeAttribute()
    doc = UnicodeAttribute()  # JSON of the message as the provider would have had it


class OneTimeCode(TableItem):
    """pk SHIP#<id>, sk OTP#<purpose>: the newest one-time code sent to the shopper for that purpose (D48), as a
    salted digest; `attempts` counts guesses at it, `sends` the codes sent while the item lives (its TTL: a day)."""

    digest = UnicodeAttribute()
    salt = UnicodeAttribute()
    channel = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    sends = NumberAttribute(default=0)
