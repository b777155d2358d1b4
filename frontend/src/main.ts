import "./styles/annotations.css";
import { watchInactivity } from "./session";

const body = document.body;
const idleSeconds = Number(body.dataset.idleSeconds ?? "0");
if (idleSeconds > 0 && body.dataset.loginUrl) {
  watchInactivity({ idleSeconds, loginUrl: body.dataset.loginUrl });
}

// The viewer (Cornerstone3D) loads only on the viewer page.
const viewerRoot = document.getElementById("viewer-app");
if (viewerRoot) {
  import("./viewer/viewer")
    .then(({ startViewer }) => startViewer(viewerRoot))
    .catch((error: unknown) => {
      const loading = document.getElementById("loading");
      if (loading) {
        loading.hidden = false;
        loading.textContent = `The viewer could not start: ${error instanceof Error ? error.message : error}`;
        loading.classList.add("error");
      }
      console.error(error);
    });
}
