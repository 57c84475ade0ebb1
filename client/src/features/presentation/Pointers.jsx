// Others' pointers over the slide, placed through the presenter's view so they follow zoom and
// pan without being scaled: the presenter's as a red laser dot, other people's cursors (multi-user
// whiteboard) as a small arrow, each with the name beside it. Plus this page's own laser dot.
import { users } from "../../core/store.js";
import { ownPointer, pointers } from "./pointers.js";
import { view } from "./state.js";
import { tool } from "./tools.js";

function place(x, y, v) {
  return { left: `${((x - v.x) / v.w) * 100}%`, top: `${((y - v.y) / v.h) * 100}%` };
}

export function Pointers() {
  const v = view.value;
  const own = tool.value === "pointer" ? ownPointer.value : null;
  return (
    <div class="wb-pointers" aria-hidden="true">
      {[...pointers.value].map(([user, p]) => {
        const laser = Boolean(users.value.get(user)?.presenter);
        return (
          <div
            key={user}
            class={`wb-pointer ${laser ? "laser" : "cursor"} ${p.idle ? "idle" : ""}`}
            data-user={user}
            data-x={p.x}
            data-y={p.y}
            style={place(p.x, p.y, v)}
          >
            {laser ? (
              <span class="wb-pointer-dot" />
            ) : (
              <svg class="wb-pointer-arrow" viewBox="0 0 16 16" width="16" height="16">
                <path d="M1 1 L14 7 L8 8.5 L6 14 Z" />
              </svg>
            )}
            <span class="wb-pointer-name">{p.name}</span>
          </div>
        );
      })}
      {own && (
        <div class="wb-pointer laser own" style={place(own.x, own.y, v)}>
          <span class="wb-pointer-dot" />
        </div>
      )}
    </div>
  );
}
