/** Declarations of build-stamp.mjs (plain JavaScript: bin/privacy-audit.js loads it before anything else). */
export declare const ROOT: string;
export declare const SOURCE_DIRS: string[];
export declare const STAMP: string;
/** SHA-256 over every source file's path, size and modification time, package.json and the lockfile. */
export declare function sourceFingerprint(): string;
/** True when dist/ exists and was built from the sources as they are now. */
export declare function distIsFresh(): boolean;
