// The tool's half of "LTI Client Side postMessage Storage", for browsers that block the state
// cookie inside the platform's iframe. The server's page names the step in #lti-storage:
// - "put" (at login): store the state in the platform's storage frame, then go on to the
//   platform's authorization URL (whether or not the platform answered: the cookie may work);
// - "get" (at launch, the cookie missing): read the state back from that frame; when it is the
//   launch's state, confirm to sala with a same-origin JSON request and follow where sala sends
//   the browser; otherwise show the page's refusal.
// Messages go to the frame the platform named (lti_storage_target) with the origin of the
// platform's authorization URL as target origin, and only answers from that origin count.
const TIMEOUT_MS = 3000;

const root = document.getElementById("lti-storage");
const data = root ? root.dataset : {};

function storageFrame(name) {
  const host = window.opener && window.opener !== window ? window.opener : window.parent;
  if (!host || host === window) return null;
  if (name === "_parent") return host;
  try {
    return host.frames[name] || null;
  } catch {
    return null;
  }
}

function ask(frame, message) {
  return new Promise((resolve) => {
    const id = crypto.randomUUID();
    const answer = message.subject + ".response";
    const timer = setTimeout(() => finish(null), TIMEOUT_MS);
    function finish(value) {
      clearTimeout(timer);
      window.removeEventListener("message", listen);
      resolve(value);
    }
    function listen(event) {
      const reply = event.data;
      if (event.origin !== data.origin || !reply || typeof reply !== "object") return;
      if (reply.subject === answer && reply.message_id === id) finish(reply);
    }
    window.addEventListener("message", listen);
    try {
      frame.postMessage({ ...message, message_id: id }, data.origin);
    } catch {
      finish(null);
    }
  });
}

function showRefusal(problem, fix) {
  const failed = document.getElementById("lti-storage-failed");
  if (!failed) return;
  if (problem) failed.querySelector(".lti-problem").textContent = problem;
  if (fix) failed.querySelector(".lti-fix").textContent = fix;
  failed.hidden = false;
}

async function put() {
  const frame = storageFrame(data.target);
  if (frame) {
    await ask(frame, { subject: "lti.put_data", key: data.key, value: data.state });
  }
  window.location.replace(data.authorize);
}

async function get() {
  const frame = storageFrame(data.target);
  const reply = frame ? await ask(frame, { subject: "lti.get_data", key: data.key }) : null;
  if (!reply || reply.error || reply.value !== data.state) {
    showRefusal();
    return;
  }
  let answer;
  try {
    const response = await fetch("/lti/launch/storage", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id_token: data.token, state: data.state }),
    });
    answer = await response.json();
  } catch {
    answer = {};
  }
  if (answer.location) {
    window.location.replace(answer.location);
  } else {
    showRefusal(answer.problem, answer.fix);
  }
}

if (data.step === "put") put();
else if (data.step === "get") get();
