import { describe, expect, it } from 'vitest';
import { MotoMissingError, startLocalAws } from '../../cli/local-aws.js';

describe('startLocalAws', () => {
  it('says how to install moto when moto_server is missing', async () => {
    // Act
    const act = startLocalAws('/nonexistent/moto_server');

    // Assess
    await expect(act).rejects.toBeInstanceOf(MotoMissingError);
    await expect(startLocalAws('/nonexistent/moto_server')).rejects.toThrow(
      'pip install "moto[server]"',
    );
  });
});
