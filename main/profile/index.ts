/** The profile layer's public API, for the CLI and the app. */

export * from './model.js';
export { importProfile, detectFormat } from './import.js';
export type {
  ImportError, ImportFormat, ImportIssue, ImportOptions, ImportResult, ImportWarning, PasswordKind,
  PasswordRequest,
} from './import-result.js';
export { exportProfile, exportProfileBytes } from './export.js';
export { redactProfile, redactSecrets } from './redact.js';
export { FileSecretStore, SecretStoreError, type SecretStore } from './secret-store.js';
export { InvalidProfileError, ProfileExistsError, ProfileNotFoundError, ProfileStore } from './profile-store.js';
export { defaultEspProposals, defaultIkeProposals, formatProposal, parseProposals } from './proposal.js';
export { formatIdentity, parseIdentity } from './identity.js';
export { validateProfile, LIMITS } from './validate.js';
export { IssueLog } from './import-result.js';
