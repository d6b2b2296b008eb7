// Types of scripts/cli-bundle.js for the TypeScript tests and benchmarks.
import type { Script } from 'node:vm';

export declare const PROJECT_ROOT: string;
export declare const BUNDLE_DIRECTORY: string;
export declare const BUNDLE_FILE: string;
export declare const CODE_CACHE_FILE: string;
export declare const MANIFEST_FILE: string;
export declare const BUNDLE_ID_PREFIX: string;

/** State of the code cache after compiling. 'rejected': V8 found it made by another Node.js version or with other V8 flags. */
export type CodeCacheStatus = 'used' | 'rejected' | 'missing';

export declare const DIST_ENTRY: string;
export declare function newestSourceTime(directory?: string): number;
export declare function distIsCurrent(): boolean;
export declare function bundleIsCurrent(directory?: string): boolean;
export declare class BundleIntegrityError extends Error {
  constructor(path: string);
}
export declare function compileBundle(directory?: string): { path: string; script: Script; cacheStatus: CodeCacheStatus };
export declare function runBundle(directory?: string): boolean;
export declare function runBundleAndWriteCodeCache(directory?: string): void;
