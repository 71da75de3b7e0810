"""moto's server, with the fixes Lifeboat's local runs rely on.

Started by local/aws/local-aws.ts exactly like moto_server (-H host -p port). Each fix makes
moto behave as AWS does where moto 5.x does not; nothing here is specific to Lifeboat's code.
aws_time.py, beside it, makes the local AWS keep AWS's time.
"""

import sys

from moto.kms import models as kms
from moto.kms import responses as kms_responses
from moto.rds import models as rds


def _promote_read_replica(self, db_kwargs):
    # AWS: a promoted replica is a standalone instance; it no longer names a source, and its
    # source no longer lists it. moto keeps both.
    database = self.databases[db_kwargs["db_instance_identifier"]]
    source_id = database.source_db_instance_identifier
    promoted = _original_promote(self, db_kwargs)
    if source_id:
        try:
            source = self.find_db_from_id(source_id)
            for ref in (promoted.db_instance_arn, promoted.db_instance_identifier):
                if ref in source.replicas:
                    source.replicas.remove(ref)
        except Exception:  # the source may be gone: that is what failover is for
            pass
        promoted.source_db_instance_identifier = None
    return promoted


_original_promote = rds.RDSBackend.promote_read_replica
rds.RDSBackend.promote_read_replica = _promote_read_replica

def _get_snapshot(self, identifier, resource_type, not_found_exception):
    # AWS: CopyDBSnapshot and CopyDBClusterSnapshot take the ARN of a snapshot another account
    # shares with the caller (its "restore" attribute names the caller's account, or "all").
    # moto looks the ARN up in the caller's own account only. Only such ARNs are redirected.
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        owner, region, name = parts[4], parts[3], parts[-1]
        if owner != self.account_id:
            snapshot = rds.rds_backends[owner][region].resource_map[resource_type].get(name)
            shared = snapshot.attributes["restore"] if snapshot is not None else []
            if self.account_id in shared or "all" in shared:
                return snapshot
            raise not_found_exception(identifier)
    return _original_get_snapshot(self, identifier, resource_type, not_found_exception)


_original_get_snapshot = rds.RDSBackend.get_snapshot
rds.RDSBackend.get_snapshot = _get_snapshot

def _restoring_by_arn(original, snapshots_of, find):
    # AWS: a restore names a shared snapshot of another account, or any snapshot, by its ARN.
    # moto looks the name up in the caller's own snapshots only: a snapshot found by the ARN
    # (another account's only while it is shared, as above) is lent to the restore by name.
    def restore(self, from_snapshot_id, overrides):
        if not from_snapshot_id.startswith("arn:"):
            return original(self, from_snapshot_id, overrides)
        snapshot = find(self, from_snapshot_id)
        snapshots = snapshots_of(self)
        name = from_snapshot_id.split(":")[-1]
        if snapshots.get(name) is snapshot:
            return original(self, name, overrides)
        # Lent under its own name (moto finds snapshots by it), then given back.
        held = snapshots.get(name)
        snapshots[name] = snapshot
        try:
            return original(self, name, overrides)
        finally:
            if held is None:
                snapshots.pop(name, None)
            else:
                snapshots[name] = held

    return restore


rds.RDSBackend.restore_db_instance_from_db_snapshot = _restoring_by_arn(
    rds.RDSBackend.restore_db_instance_from_db_snapshot,
    lambda backend: backend.database_snapshots,
    lambda backend, arn: backend.get_db_snapshot(arn),
)
rds.RDSBackend.restore_db_cluster_from_snapshot = _restoring_by_arn(
    rds.RDSBackend.restore_db_cluster_from_snapshot,
    lambda backend: backend.cluster_snapshots,
    lambda backend, arn: backend.get_db_cluster_snapshot(arn),
)

def _encrypt(self, key_id, plaintext, encryption_context):
    # AWS: Encrypt takes the ARN of another account's key its policy lets the caller use (an
    # export's data key encrypted for the vault account's key). moto looks in the caller's own
    # account only: such ARNs are encrypted by the key's own account.
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        owner, region = parts[4], parts[3]
        if owner != self.account_id:
            return kms.kms_backends[owner][region].encrypt(key_id, plaintext, encryption_context)
    return _original_encrypt(self, key_id, plaintext, encryption_context)


def _validate_key_id(self, key_id):
    # ... and finds such a key where it lives, before the encryption above.
    if key_id.startswith("arn:") and ":key/" in key_id:
        parts = key_id.split(":")
        owner, region, kid = parts[4], parts[3], key_id.split("/")[-1]
        if owner != self.current_account:
            if kid in kms.kms_backends[owner][region].keys:
                return
    return _original_validate_key_id(self, key_id)


_original_encrypt = kms.KmsBackend.encrypt
kms.KmsBackend.encrypt = _encrypt
_original_validate_key_id = kms_responses.KmsResponse._validate_key_id
kms_responses.KmsResponse._validate_key_id = _validate_key_id

# Last: it wraps the fixes above (restores by ARN, promotions) with AWS's time.
import aws_time  # noqa: E402,F401

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
