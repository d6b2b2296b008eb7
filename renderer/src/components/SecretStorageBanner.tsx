import type { AppInfo } from '../../../main/app/ipc-schema';

/** Warns when no keyring protects secrets, and requests consent before any secret is stored that way. */
export function SecretStorageBanner({ storage, onAllow }: { storage: AppInfo['secretStorage']; onAllow: () => void }) {
  if (storage.protected) {
    return null;
  }
  if (storage.plainTextAllowed) {
    return (
      <p className="banner warning" role="note">
        No keyring protects your secrets (storage backend “{storage.backend}”): pre-shared keys and passwords
        are stored in files that only your user can read, but without encryption by the system.
      </p>
    );
  }
  return (
    <div className="banner warning" role="note">
      <p>
        No keyring protects secrets on this desktop (storage backend “{storage.backend}”). Lupina stores no
        pre-shared key, password or private key until you agree. Start GNOME Keyring or KWallet and restart
        Lupina to protect them, or store them in files that only your user can read.
      </p>
      <button type="button" onClick={onAllow}>Store secrets without keyring protection</button>
    </div>
  );
}
