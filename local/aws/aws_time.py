"""The local AWS keeps AWS's time: what takes minutes on AWS takes a configured time here.

moto makes every snapshot, copy, restore and promotion `available` the moment it is asked for;
on AWS each is `creating` (a cluster copy `copying`, a promotion `modifying`) for minutes to
hours, RDS refuses to copy, share or restore a snapshot before it is available, and RDS tells
EventBridge when one becomes available, on a best-effort basis. This module gives moto's server
all of that:

- each manual snapshot, copy, restore (and a DB instance created into a cluster) and read-replica
  promotion settles after the time configured for its kind, on a clock that runs with real time
  and can be moved forward (`advance`), so that a long run of schedules needs no real waiting;
- the state checks AWS makes before a copy, a share and a restore;
- the events RDS sends to the default event bus of the account and region ("RDS DB Snapshot
  Event", "RDS DB Cluster Snapshot Event") when a snapshot or copy is available, delivered
  dropped, duplicated or late on request;
- a control API under /_lifeboat/ on the server's own port (clock, timing, delivery, events).

Started by moto_server.py with the timing in LIFEBOAT_LOCAL_TIMING (JSON, seconds per kind).
"""

import functools
import json
import os
import random
import threading
import time
from datetime import datetime, timezone

import jsonpath_ng.ext as jsonpath_ext
from moto.events.models import events_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.rds import models as rds
from moto.rds.exceptions import (
    InvalidDBClusterSnapshotStateFault,
    InvalidDBInstanceStateFault,
    RDSClientError,
)

KINDS = ("snapshot", "copy", "restore", "promote")

# RDS's copies in flight at once into one region of one account: 20 DB snapshot copies, 5 DB
# cluster snapshot copies. A copy past them is refused, as AWS refuses it.
COPY_CAPS = {"instance": 20, "cluster": 5}


class InvalidDBSnapshotState(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidDBSnapshotState", message)


class CopyQuotaExceeded(RDSClientError):
    def __init__(self, message):
        super().__init__("SnapshotQuotaExceeded", message)


# moto builds a JSONPath parser afresh for each path of each event it sends to a target (some
# 30 ms each, eight paths an event): the same few paths, parsed once.
jsonpath_ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ext.parse)

_lock = threading.RLock()
_state = {
    "offset": 0.0,
    "timing": {kind: 0.0 for kind in KINDS},
    "delivery": {"drop": 0.0, "duplicate": 0.0, "delaySeconds": 0.0, "dropNext": 0, "duplicateNext": 0},
}
_rng = random.Random(0)
_pending = []  # what settles later: {"ready", "kind", "region", "account", "id", "status", "settle", "present"}
_outbox = []  # events held back to arrive late: {"at", "account", "region", "entry", "record"}
_log = []  # every event RDS would send, and how it was delivered


def now():
    return time.time() + _state["offset"]


def _iso(seconds):
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _configure_timing(values):
    for kind, seconds in values.items():
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind}: one of {', '.join(KINDS)}")
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"{kind}: seconds must be a number of at least 0")
        _state["timing"][kind] = float(seconds)


_configure_timing(json.loads(os.environ.get("LIFEBOAT_LOCAL_TIMING", "{}")))


def _later(kind, resource, busy, present, settle, account, region, identifier, family=None):
    """Puts `resource` in its busy status until its kind's time has passed, then settles it."""
    seconds = _state["timing"][kind]
    if seconds <= 0:
        settle()
        return
    resource.status = busy
    with _lock:
        _pending.append(
            {
                "ready": now() + seconds,
                "kind": kind,
                "family": family,
                "account": account,
                "region": region,
                "id": identifier,
                "status": busy,
                "settle": settle,
                "present": present,
            }
        )


def _settle_due():
    with _lock:
        due = sorted((p for p in _pending if p["ready"] <= now()), key=lambda p: p["ready"])
        for item in due:
            _pending.remove(item)
        held = sorted((e for e in _outbox if e["at"] <= now()), key=lambda e: e["at"])
        for item in held:
            _outbox.remove(item)
    for item in due:
        # Deleted (or the local AWS reset) meanwhile: nothing is left to settle.
        if item["present"]():
            item["settle"]()
    for item in held:
        _put(item["account"], item["region"], item["entry"], item["record"])


def _ticker():
    while True:
        time.sleep(0.02)
        try:
            _settle_due()
        except Exception:  # the server keeps serving whatever one settlement did
            pass


# --- RDS's events -------------------------------------------------------------------------------

SNAPSHOT_EVENT = "RDS DB Snapshot Event"
CLUSTER_SNAPSHOT_EVENT = "RDS DB Cluster Snapshot Event"


def _emit(backend, detail_type, source_type, arn, identifier, message, event_id, category):
    detail = {
        "EventCategories": [category],
        "SourceType": source_type,
        "SourceArn": arn,
        "Date": _iso(now()),
        "SourceIdentifier": identifier,
        "Message": message,
        "EventID": event_id,
    }
    entry = {
        "Source": "aws.rds",
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "Resources": [arn],
    }
    delivery = _state["delivery"]
    record = {
        "account": backend.account_id,
        "region": backend.region_name,
        "detailType": detail_type,
        "detail": detail,
        "delivered": 1,
        "late": False,
    }
    with _lock:
        _log.append(record)
        if delivery["dropNext"] > 0 or _rng.random() < delivery["drop"]:
            delivery["dropNext"] = max(0, delivery["dropNext"] - 1)
            record["delivered"] = 0
            return
        if delivery["duplicateNext"] > 0 or _rng.random() < delivery["duplicate"]:
            delivery["duplicateNext"] = max(0, delivery["duplicateNext"] - 1)
            record["delivered"] = 2
        if delivery["delaySeconds"] > 0:
            record["late"] = True
            _outbox.append(
                {
                    "at": now() + delivery["delaySeconds"],
                    "account": backend.account_id,
                    "region": backend.region_name,
                    "entry": entry,
                    "record": record,
                }
            )
            return
    _put(backend.account_id, backend.region_name, entry, record)


def _put(account, region, entry, record):
    for _ in range(record["delivered"]):
        events_backends[account][region].put_events([dict(entry)])


def _snapshot_ready(snapshot, event):
    def settle():
        snapshot.status = "available"
        event()

    return settle


def _instance_snapshot_event(backend, snapshot, copied_from):
    if copied_from:
        source_region = copied_from.split(":")[3] if copied_from.startswith("arn:") else None
        if source_region and source_region != backend.region_name:
            message = f"Finished the copy of snapshot {copied_from} from region {source_region}."
            event_id = "RDS-EVENT-0060"
        else:
            message = f"Finished the copy of snapshot {copied_from}."
            event_id = "RDS-EVENT-0197"
        category = "notification"
    else:
        message, event_id, category = "Manual snapshot created", "RDS-EVENT-0042", "creation"
    return lambda: _emit(
        backend,
        SNAPSHOT_EVENT,
        "SNAPSHOT",
        snapshot.arn,
        snapshot.db_snapshot_identifier,
        message,
        event_id,
        category,
    )


def _cluster_snapshot_event(backend, snapshot, copied_from):
    if copied_from:
        message, event_id, category = (
            f"Finished the copy of DB cluster snapshot {copied_from}.",
            "RDS-EVENT-0077",
            "notification",
        )
    else:
        message, event_id, category = (
            "Manual cluster snapshot created",
            "RDS-EVENT-0075",
            "backup",
        )
    return lambda: _emit(
        backend,
        CLUSTER_SNAPSHOT_EVENT,
        "CLUSTER_SNAPSHOT",
        snapshot.arn,
        snapshot.db_cluster_snapshot_identifier,
        message,
        event_id,
        category,
    )


# --- Snapshots and copies -------------------------------------------------------------------


def _create_db_snapshot(self, db_instance_identifier, db_snapshot_identifier, snapshot_type="manual", *args, **kwargs):
    database = self.databases.get(db_instance_identifier)
    if snapshot_type == "manual" and database is not None and database.status != "available":
        # AWS: a snapshot is taken of an available instance only.
        raise InvalidDBInstanceStateFault(
            f"Cannot create a snapshot because the database instance {db_instance_identifier} is not currently in the available state."
        )
    snapshot = _original_create_db_snapshot(
        self, db_instance_identifier, db_snapshot_identifier, snapshot_type, *args, **kwargs
    )
    if snapshot_type == "manual":
        backend = self
        _later(
            "snapshot",
            snapshot,
            "creating",
            lambda: backend.database_snapshots.get(snapshot.db_snapshot_identifier) is snapshot,
            _snapshot_ready(snapshot, _instance_snapshot_event(backend, snapshot, None)),
            self.account_id,
            self.region_name,
            snapshot.db_snapshot_identifier,
        )
    return snapshot


def _check_copy_cap(backend, family):
    with _lock:
        in_flight = sum(
            1
            for p in _pending
            if p["kind"] == "copy"
            and p["family"] == family
            and p["account"] == backend.account_id
            and p["region"] == backend.region_name
            and p["present"]()
        )
    cap = COPY_CAPS[family]
    if in_flight >= cap:
        what = "DB snapshot" if family == "instance" else "DB cluster snapshot"
        raise CopyQuotaExceeded(
            f"Cannot start another {what} copy: {cap} are already in progress to {backend.region_name} for this account."
        )


def _copy_db_snapshot(self, source_db_snapshot_identifier, target_db_snapshot_identifier, *args, **kwargs):
    source = self.get_db_snapshot(source_db_snapshot_identifier)
    if source.status != "available":
        raise InvalidDBSnapshotState(
            f"Snapshot {source.db_snapshot_identifier} is not in available state (it is {source.status}); it cannot be copied yet."
        )
    _check_copy_cap(self, "instance")
    copy = _original_copy_db_snapshot(
        self, source_db_snapshot_identifier, target_db_snapshot_identifier, *args, **kwargs
    )
    backend = self
    _later(
        "copy",
        copy,
        "creating",
        lambda: backend.database_snapshots.get(copy.db_snapshot_identifier) is copy,
        _snapshot_ready(copy, _instance_snapshot_event(backend, copy, source.arn)),
        self.account_id,
        self.region_name,
        copy.db_snapshot_identifier,
        family="instance",
    )
    return copy


def _create_db_cluster_snapshot(self, db_cluster_identifier, db_cluster_snapshot_identifier, snapshot_type="manual", *args, **kwargs):
    snapshot = _original_create_db_cluster_snapshot(
        self, db_cluster_identifier, db_cluster_snapshot_identifier, snapshot_type, *args, **kwargs
    )
    if snapshot_type == "manual":
        backend = self
        _later(
            "snapshot",
            snapshot,
            "creating",
            lambda: backend.cluster_snapshots.get(snapshot.db_cluster_snapshot_identifier) is snapshot,
            _snapshot_ready(snapshot, _cluster_snapshot_event(backend, snapshot, None)),
            self.account_id,
            self.region_name,
            snapshot.db_cluster_snapshot_identifier,
        )
    return snapshot


def _copy_db_cluster_snapshot(self, source_db_cluster_snapshot_identifier, target_db_cluster_snapshot_identifier, *args, **kwargs):
    source = self.get_db_cluster_snapshot(source_db_cluster_snapshot_identifier)
    if source.status != "available":
        raise InvalidDBClusterSnapshotStateFault(
            f"Snapshot {source.db_cluster_snapshot_identifier} is not in available state (it is {source.status}); it cannot be copied yet."
        )
    _check_copy_cap(self, "cluster")
    copy = _original_copy_db_cluster_snapshot(
        self, source_db_cluster_snapshot_identifier, target_db_cluster_snapshot_identifier, *args, **kwargs
    )
    backend = self
    _later(
        "copy",
        copy,
        "copying",
        lambda: backend.cluster_snapshots.get(copy.db_cluster_snapshot_identifier) is copy,
        _snapshot_ready(copy, _cluster_snapshot_event(backend, copy, source.arn)),
        self.account_id,
        self.region_name,
        copy.db_cluster_snapshot_identifier,
        family="cluster",
    )
    return copy


def _modify_db_snapshot_attribute(self, db_snapshot_identifier, *args, **kwargs):
    snapshot = self.get_db_snapshot(db_snapshot_identifier)
    if snapshot.status != "available":
        raise InvalidDBSnapshotState(
            f"Snapshot {db_snapshot_identifier} is not in available state (it is {snapshot.status}); it cannot be shared yet."
        )
    return _original_modify_db_snapshot_attribute(self, db_snapshot_identifier, *args, **kwargs)


def _modify_db_cluster_snapshot_attribute(self, db_cluster_snapshot_identifier, *args, **kwargs):
    snapshot = self.get_db_cluster_snapshot(db_cluster_snapshot_identifier)
    if snapshot.status != "available":
        raise InvalidDBClusterSnapshotStateFault(
            f"Snapshot {db_cluster_snapshot_identifier} is not in available state (it is {snapshot.status}); it cannot be shared yet."
        )
    return _original_modify_db_cluster_snapshot_attribute(
        self, db_cluster_snapshot_identifier, *args, **kwargs
    )


# --- Restores and promotions ----------------------------------------------------------------


def _available_later(kind, busy):
    """Wraps a call that returns a DB instance or cluster: busy for its kind's time, then available."""

    def wrap(original):
        def call(self, *args, **kwargs):
            resource = original(self, *args, **kwargs)
            is_cluster = isinstance(resource, rds.DBCluster)
            identifier = resource.db_cluster_identifier if is_cluster else resource.db_instance_identifier
            held = self.clusters if is_cluster else self.databases
            backend = self

            def settle():
                resource.status = "available"

            _later(
                kind,
                resource,
                busy,
                lambda: held.get(identifier) is resource,
                settle,
                backend.account_id,
                backend.region_name,
                identifier,
            )
            return resource

        return call

    return wrap


def _restore_from_available_snapshot(original, find, fault):
    def restore(self, from_snapshot_id, *args, **kwargs):
        snapshot = find(self, from_snapshot_id)
        if snapshot.status != "available":
            raise fault(
                f"Snapshot {from_snapshot_id} is not in available state (it is {snapshot.status}); it cannot be restored yet."
            )
        return original(self, from_snapshot_id, *args, **kwargs)

    return restore


def _create_db_instance(self, db_kwargs, *args, **kwargs):
    database = _original_create_db_instance(self, db_kwargs, *args, **kwargs)
    # An instance added to a cluster (how a restored Aurora cluster gets its writer) takes the
    # time of a restore; the standalone instances a test or the demo seeds exist at once.
    if db_kwargs.get("db_cluster_identifier") and getattr(database, "status", None) == "available":
        backend = self
        identifier = database.db_instance_identifier

        def settle():
            database.status = "available"

        _later(
            "restore",
            database,
            "creating",
            lambda: backend.databases.get(identifier) is database,
            settle,
            backend.account_id,
            backend.region_name,
            identifier,
        )
    return database


def _cluster_status(self):
    return self._status


def _set_cluster_status(self, value):
    self._status = value


def _create_db_cluster(self, kwargs, *args, **more):
    cluster = _original_create_db_cluster(self, kwargs, *args, **more)
    # moto makes a new cluster `creating` until someone looks once; seeded clusters exist at once.
    if cluster._status == "creating":
        cluster._status = "available"
    return cluster


_original_create_db_snapshot = rds.RDSBackend.create_db_snapshot
rds.RDSBackend.create_db_snapshot = _create_db_snapshot
_original_copy_db_snapshot = rds.RDSBackend.copy_db_snapshot
rds.RDSBackend.copy_db_snapshot = _copy_db_snapshot
_original_create_db_cluster_snapshot = rds.RDSBackend.create_db_cluster_snapshot
rds.RDSBackend.create_db_cluster_snapshot = _create_db_cluster_snapshot
_original_copy_db_cluster_snapshot = rds.RDSBackend.copy_db_cluster_snapshot
rds.RDSBackend.copy_db_cluster_snapshot = _copy_db_cluster_snapshot
_original_modify_db_snapshot_attribute = rds.RDSBackend.modify_db_snapshot_attribute
rds.RDSBackend.modify_db_snapshot_attribute = _modify_db_snapshot_attribute
_original_modify_db_cluster_snapshot_attribute = rds.RDSBackend.modify_db_cluster_snapshot_attribute
rds.RDSBackend.modify_db_cluster_snapshot_attribute = _modify_db_cluster_snapshot_attribute

rds.RDSBackend.restore_db_instance_from_db_snapshot = _available_later("restore", "creating")(
    _restore_from_available_snapshot(
        rds.RDSBackend.restore_db_instance_from_db_snapshot,
        lambda backend, ref: backend.get_db_snapshot(ref),
        InvalidDBSnapshotState,
    )
)
rds.RDSBackend.restore_db_cluster_from_snapshot = _available_later("restore", "creating")(
    _restore_from_available_snapshot(
        rds.RDSBackend.restore_db_cluster_from_snapshot,
        lambda backend, ref: backend.get_db_cluster_snapshot(ref),
        InvalidDBClusterSnapshotStateFault,
    )
)
rds.RDSBackend.restore_db_instance_to_point_in_time = _available_later("restore", "creating")(
    rds.RDSBackend.restore_db_instance_to_point_in_time
)
rds.RDSBackend.restore_db_cluster_to_point_in_time = _available_later("restore", "creating")(
    rds.RDSBackend.restore_db_cluster_to_point_in_time
)
rds.RDSBackend.promote_read_replica = _available_later("promote", "modifying")(
    rds.RDSBackend.promote_read_replica
)
_original_create_db_instance = rds.RDSBackend.create_db_instance
rds.RDSBackend.create_db_instance = _create_db_instance
rds.DBCluster.status = property(_cluster_status, _set_cluster_status)
_original_create_db_cluster = rds.RDSBackend.create_db_cluster
rds.RDSBackend.create_db_cluster = _create_db_cluster


# --- The control API ------------------------------------------------------------------------


def _clock_view():
    with _lock:
        pending = sorted(_pending, key=lambda p: p["ready"])
        held = sorted(_outbox, key=lambda e: e["at"])
        upcoming = [p["ready"] for p in pending] + [e["at"] for e in held]
        return {
            "now": _iso(now()),
            "offsetSeconds": _state["offset"],
            "pending": [
                {
                    "kind": p["kind"],
                    "family": p.get("family"),
                    "account": p["account"],
                    "region": p["region"],
                    "id": p["id"],
                    "status": p["status"],
                    "readyAt": _iso(p["ready"]),
                    "inSeconds": max(0.0, p["ready"] - now()),
                }
                for p in pending
            ],
            "lateEvents": len(held),
            "nextInSeconds": max(0.0, min(upcoming) - now()) if upcoming else None,
        }


def _advance(body):
    seconds = body.get("seconds")
    if body.get("toNext"):
        view = _clock_view()
        seconds = view["nextInSeconds"] if view["nextInSeconds"] is not None else 0.0
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError("give seconds (at least 0) or toNext: true")
    with _lock:
        _state["offset"] += float(seconds)
    # Settled before the answer: on return, everything due by the new time has happened.
    _settle_due()
    return _clock_view()


def _set_delivery(body):
    delivery = _state["delivery"]
    for key, value in body.items():
        if key == "seed":
            _rng.seed(value)
            continue
        if key not in delivery:
            raise ValueError(f"unknown delivery setting {key}: one of {', '.join(delivery)}, seed")
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{key}: must be a number of at least 0")
        if key in ("drop", "duplicate") and value > 1:
            raise ValueError(f"{key}: a probability, from 0 to 1")
        delivery[key] = int(value) if key.endswith("Next") else float(value)
    return dict(delivery)


def _reset(_body):
    with _lock:
        _pending.clear()
        _outbox.clear()
        _log.clear()
        _state["offset"] = 0.0
        _state["delivery"].update(
            {"drop": 0.0, "duplicate": 0.0, "delaySeconds": 0.0, "dropNext": 0, "duplicateNext": 0}
        )
    return {"reset": True}


def _timing(body):
    _configure_timing(body)
    return dict(_state["timing"])


ROUTES = {
    ("GET", "/_lifeboat/clock"): lambda _body: _clock_view(),
    ("POST", "/_lifeboat/clock"): _advance,
    ("GET", "/_lifeboat/timing"): lambda _body: dict(_state["timing"]),
    ("POST", "/_lifeboat/timing"): _timing,
    ("GET", "/_lifeboat/delivery"): lambda _body: dict(_state["delivery"]),
    ("POST", "/_lifeboat/delivery"): _set_delivery,
    ("GET", "/_lifeboat/events"): lambda _body: list(_log),
    ("POST", "/_lifeboat/reset"): _reset,
}


def _control(environ, start_response):
    route = ROUTES.get((environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")))
    status, payload = "200 OK", None
    if route is None:
        status, payload = "404 Not Found", {"error": "no such control"}
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            payload = route(body)
        except ValueError as error:
            status, payload = "400 Bad Request", {"error": str(error)}
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


_original_call = DomainDispatcherApplication.__call__


def _call(self, environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/_lifeboat/"):
        return _control(environ, start_response)
    return _original_call(self, environ, start_response)


DomainDispatcherApplication.__call__ = _call
threading.Thread(target=_ticker, name="aws-time", daemon=True).start()
