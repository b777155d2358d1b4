import { watchInactivity } from "./session";

const body = document.body;
const idleSeconds = Number(body.dataset.idleSeconds ?? "0");
if (idleSeconds > 0 && body.dataset.loginUrl) {
  watchInactivity({ idleSeconds, loginUrl: body.dataset.loginUrl });
}
