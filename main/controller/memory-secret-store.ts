/**
 * A secret store that lives only in memory: for a profile connected straight from a file, for
 * the copy of a saved profile's secrets that a running connection keeps, and for the backup
 * that an import restores when it fails.
 */

import type { SecretStore } from '../profile/secret-store.js';
import { profileIdOfSecretRef, profileSecretRefs, type Profile } from '../profile/model.js';

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, Uint8Array>();

  constructor(initial: Record<string, Uint8Array> = {}) {
    for (const [ref, value] of Object.entries(initial)) {
      this.values.set(ref, Uint8Array.from(value));
    }
  }

  /**
   * Copies the secrets that the profiles refer to out of `store`. A reference that `store` does
   * not contain is left out, so reading it later gives the same "missing" result as before.
   */
  static async copyOf(profiles: readonly Profile[], store: SecretStore): Promise<MemorySecretStore> {
    const copy = new MemorySecretStore();
    for (const ref of profiles.flatMap(profileSecretRefs)) {
      const value = await store.get(ref);
      if (value !== undefined) {
        await copy.set(ref, value);
      }
    }
    return copy;
  }

  async get(ref: string): Promise<Uint8Array | undefined> {
    return this.values.get(ref);
  }

  async set(ref: string, value: Uint8Array): Promise<void> {
    this.values.get(ref)?.fill(0);
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

  /** Returns every stored reference with its value. */
  entries(): Array<[string, Uint8Array]> {
    return [...this.values.entries()];
  }

  /** Overwrites every value with zeros and removes it. */
  clear(): void {
    for (const value of this.values.values()) {
      value.fill(0);
    }
    this.values.clear();
  }
}
