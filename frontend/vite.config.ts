import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

// Django serves the build from /static/ and finds the hashed names through the manifest
// (backend/core/templatetags/vite.py).
export default defineConfig({
  root: here,
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: "manifest.json",
    rollupOptions: {
      input: { main: "src/main.ts" },
    },
  },
  worker: { format: "es" },
});
