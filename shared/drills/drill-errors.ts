/** The policy cannot drill what was asked: no drills section, or no drill for the target. */
export class DrillConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillConfigError';
  }
}

/** There is no restore point the drill may use. */
export class NoRestorePointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoRestorePointError';
  }
}
