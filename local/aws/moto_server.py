"""moto's server, with the fixes Lifeboat's local runs rely on.

Started by cli/local-aws/local-aws.ts exactly like moto_server (-H host -p port). Each fix makes
moto behave as AWS does where moto 5.x does not; nothing here is specific to Lifeboat's code.
"""

import sys

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

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
