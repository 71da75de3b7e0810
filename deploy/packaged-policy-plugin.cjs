'use strict';

const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

// Writes the validated policy (custom.settings.packagedPolicy, computed by stack-settings.ts)
// where every function's package picks it up (custom.settings.policyFile), just before the
// functions are bundled: computing the settings writes nothing, packaging does.
class PackagedPolicyPlugin {
  constructor(serverless) {
    this.serverless = serverless;
    const write = () => this.writePolicy();
    this.hooks = {
      'before:package:createDeploymentArtifacts': write,
      'before:deploy:function:packageFunction': write,
    };
  }

  writePolicy() {
    const { policyFile, packagedPolicy } = this.serverless.service.custom.settings;
    const path = join(this.serverless.serviceDir, policyFile);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, packagedPolicy);
  }
}

module.exports = PackagedPolicyPlugin;
