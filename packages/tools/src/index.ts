/**
 * `@troupe/tools`: the tools and sensors agents act through, each confined to the workspace and bounded.
 */
export {}
