/** Creating the snapshots would take the account past its manual snapshot quota. */
export class SnapshotQuotaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotQuotaError';
  }
}

/** A database the policy names does not exist or cannot be protected. */
export class TargetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetNotFoundError';
  }
}

/** A snapshot with Lifeboat's identifier exists but was not created by this policy. */
export class SnapshotConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotConflictError';
  }
}

/** A key that restore points depend on is disabled or scheduled for deletion. */
export class KeyAtRiskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyAtRiskError';
  }
}
