// Confirmation and rejection as electronic signatures: the dialog states what signing means,
// asks for the password again, and for a reason when rejecting. A wrong password (403) keeps
// the dialog open with the server's message; nothing changes on the server.
import { ApiError, describeFailure, postJson, urls, type Result } from "./api";

export type Decision = "confirm" | "reject";

export class SignDialog {
  private readonly dialog = document.getElementById("sign-dialog") as HTMLDialogElement;
  private readonly form = document.getElementById("sign-form") as HTMLFormElement;
  private readonly password = document.getElementById("sign-password") as HTMLInputElement;
  private readonly reason = document.getElementById("sign-reason") as HTMLTextAreaElement;
  private readonly error = document.getElementById("sign-error") as HTMLElement;
  private readonly meanings = document.getElementById("sign-meanings") as HTMLElement;
  private pending: { decision: Decision; result: Result; version: number } | null = null;

  constructor(private readonly onSigned: (result: Result) => void) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    document.getElementById("sign-cancel")!.addEventListener("click", () => this.dialog.close());
  }

  open(decision: Decision, result: Result, version: number): void {
    this.pending = { decision, result, version };
    const meaning = decision === "confirm" ? this.meanings.dataset.confirm : this.meanings.dataset.reject;
    document.getElementById("sign-title")!.textContent =
      decision === "confirm" ? "Confirm the segmentation" : "Reject the segmentation";
    document.getElementById("sign-version")!.textContent = String(version);
    document.getElementById("sign-structure")!.textContent = result.prompt.name;
    document.getElementById("sign-meaning")!.textContent = meaning ?? decision;
    document.getElementById("sign-reason-label")!.textContent =
      decision === "confirm" ? "Comment (optional)" : "Reason for rejecting (required)";
    this.reason.required = decision === "reject";
    this.reason.value = "";
    this.password.value = "";
    this.error.textContent = "";
    (document.getElementById("sign-submit") as HTMLButtonElement).textContent =
      decision === "confirm" ? "Sign and confirm" : "Sign and reject";
    this.dialog.showModal();
    this.password.focus();
  }

  private async submit(): Promise<void> {
    if (!this.pending) return;
    const { decision, result, version } = this.pending;
    const reason = this.reason.value.trim();
    if (decision === "reject" && !reason) {
      this.error.textContent = "Give the reason for rejecting the result.";
      return;
    }
    if (!this.password.value) {
      this.error.textContent = "Enter your password to sign.";
      return;
    }
    const url = decision === "confirm" ? urls.confirm(result.id) : urls.reject(result.id);
    try {
      const signed = await postJson<Result>(url, { version, password: this.password.value, reason });
      this.password.value = "";
      this.dialog.close();
      this.onSigned(signed);
    } catch (error) {
      this.password.value = "";
      const field = error instanceof ApiError
        ? (error.field("password") ?? error.field("version")) : undefined;
      this.error.textContent = field ?? describeFailure("Signing", error,
        "Nothing was signed: enter your password and sign again.");
    }
  }
}
