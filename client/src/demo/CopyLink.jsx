// An invite link in a read-only field with a copy button; "Copied" shows for a moment and is
// said to screen readers. Without the clipboard API (a page not served over HTTPS or loopback)
// the link is selected and copied the old way, or left selected for the visitor to copy.
import { useEffect, useRef, useState } from "preact/hooks";
import { Check, Copy } from "lucide-preact";
import { t } from "../core/i18n.js";

async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.select();
    return document.execCommand?.("copy") ?? false;
  }
}

export function CopyLink({ id, label, url }) {
  const [state, setState] = useState("idle"); // idle | copied | failed
  const input = useRef(null);
  useEffect(() => {
    if (state === "idle") return undefined;
    const timer = setTimeout(() => setState("idle"), 2500);
    return () => clearTimeout(timer);
  }, [state]);
  const copied = state === "copied";
  return (
    <div class="copy-link">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input id={id} ref={input} readOnly value={url} spellcheck={false} onFocus={(event) => event.currentTarget.select()} />
        <button
          id={`${id}-copy`}
          type="button"
          class={`secondary ${copied ? "copied" : ""}`}
          // Copied, the visible "Copied!" is the name (the status line says which link):
          // a name that no longer contains the visible text confuses voice control.
          aria-label={copied ? undefined : t("demo.copyLink", { link: label })}
          onClick={async () => setState((await copyText(url, input.current)) ? "copied" : "failed")}
        >
          {copied ? <Check size={18} aria-hidden="true" /> : <Copy size={18} aria-hidden="true" />}
          <span>{t(copied ? "demo.copied" : "demo.copy")}</span>
        </button>
      </div>
      <p class="visually-hidden" role="status">
        {copied ? t("demo.copiedLink", { link: label }) : state === "failed" ? t("demo.copyFailed") : ""}
      </p>
    </div>
  );
}
