import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

// Unit tests of the viewer's pure logic (mask codec, prompt geometry and template, result
// panel and job progress states). They run in Node: Cornerstone3D stays out of them (it needs
// WebGL); the few DOM elements a component touches are plain stand-ins. The browser tests in
// tests/e2e drive the real viewer.
export default defineConfig({
  root: here,
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
