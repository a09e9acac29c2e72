import { defineConfig } from "vitest/config"

// CI asks for a machine-readable report beside the usual output, so that it can print the counts.
const report = process.env.TROUPE_TEST_REPORT

// vitest >= 4 has no workspace file: this root config lists every package's project.
export default defineConfig({
  test: {
    projects: ["packages/*"],
    ...(report ? { reporters: ["default", "json"], outputFile: { json: report } } : {})
  }
})
