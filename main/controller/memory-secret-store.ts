/** A secret store that lives only in memory, for a profile connected straight from a file. */

import type { SecretStore } from '../profile/secret-store.js';
import { profileIdOfSecretRef } from '../profile/model.js';

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, Uint8Array>();

  constructor(initial: Record<string, Uint8Array> = {}) {
    for (const [ref, value] of Object.entries(initial)) {
      this.values.set(ref, Uint8Array.from(value));
    }
  }

  async get(ref: string): Promise<Uint8Array | undefined> {
    return this.values.get(ref);
  }

  async set(ref: string, value: Uint8Array): Promise<void> {
    this.values.set(ref, Uint8Array.from(value));
  }

  async delete(ref: string): Promise<void> {
    this.values.get(ref)?.fill(0);
    this.values.delete(ref);
  }

  async deleteProfile(profileId: string): Promise<void> {
    for (const ref of [...this.values.keys()]) {
      if (profileIdOfSecretRef(ref) === profileId) {
        await this.delete(ref);
      }
    }
  }
}
