import { defineConfig } from "vitest/config"

// vitest >= 4 has no workspace file: this root config lists every package's project.
export default defineConfig({
  test: {
    projects: ["packages/*"]
  }
})
