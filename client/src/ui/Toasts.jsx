// Short messages in a corner, and the polite live region screen readers follow.
import { announcement, toasts } from "../core/store.js";

export function Toasts() {
  return (
    <>
      <div class="toasts" role="status" aria-live="polite">
        {toasts.value.map((x) => (
          <div key={x.id} class={`toast ${x.kind}`} id="toast">{x.text}</div>
        ))}
      </div>
      <div class="visually-hidden" aria-live="polite" id="announcer">{announcement.value}</div>
    </>
  );
}
