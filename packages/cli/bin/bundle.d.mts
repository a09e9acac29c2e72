/** The types of `bundle.mjs` (plain JavaScript, so that the launcher never loads TypeScript). */

/** The workspace root, with a trailing slash. */
export declare const root: string
/** The command's program, which the build bundles and the launcher runs when there is no current build. */
export declare const mainSource: string
/** Where builds are kept, one directory per fingerprint. */
export declare const cacheDirectory: string
/** The entry file of the build with this fingerprint. */
export declare const entryOf: (fingerprint: string) => string
/** The fingerprint of the sources as they are now. */
export declare const fingerprint: () => string
