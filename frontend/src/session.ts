// Automatic logoff in the browser: the server ends an idle session, and the page follows it so
// no patient image stays on an unattended screen. A warning appears a minute before.

export interface SessionConfig {
  idleSeconds: number;
  loginUrl: string;
}

const WARNING_SECONDS = 60;
const ACTIVITY_EVENTS = ["mousedown", "keydown", "wheel", "touchstart"] as const;

export function watchInactivity(config: SessionConfig, now: () => number = Date.now): void {
  let lastActivity = now();
  const banner = document.createElement("div");
  banner.className = "idle-warning";
  banner.setAttribute("role", "alert");
  banner.hidden = true;
  document.body.appendChild(banner);

  for (const name of ACTIVITY_EVENTS) {
    window.addEventListener(name, () => {
      lastActivity = now();
      banner.hidden = true;
    }, { passive: true });
  }

  window.setInterval(() => {
    const idle = (now() - lastActivity) / 1000;
    const left = Math.ceil(config.idleSeconds - idle);
    if (left <= 0) {
      window.location.assign(`${config.loginUrl}?idle=1`);
    } else if (left <= WARNING_SECONDS) {
      banner.textContent = `You will be signed out in ${left} s because of inactivity.`;
      banner.hidden = false;
    }
  }, 1000);
}
