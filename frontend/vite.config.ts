import { defineConfig } from "vite";
import { viteCommonjs } from "@originjs/vite-plugin-commonjs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

// Django serves the build from /static/ and finds the hashed names through the manifest
// (backend/core/templatetags/vite.py). Cornerstone3D needs the CommonJS plugin and ES-module
// workers, or its decode worker dies silently (DESIGN.md section 6); the image loader must
// not be excluded from optimizeDeps, or two copies of its metadata module load.
export default defineConfig({
  root: here,
  base: "/static/",
  plugins: [viteCommonjs()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: "manifest.json",
    chunkSizeWarningLimit: 6000,
    rollupOptions: {
      input: { main: "src/main.ts" },
    },
  },
  worker: { format: "es" },
});
