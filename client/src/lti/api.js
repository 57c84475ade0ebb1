// The landing page's calls: JSON under the page's own path (/lti/rooms/{token}/…), the token
// being the session. Each answers { body } or { error } with a code the words know.
const KNOWN = ["session", "network", "forbidden", "unavailable"];

export async function call(base, path, method = "GET") {
  let answer;
  try {
    answer = await fetch(`${base}/${path}`, {
      method,
      headers: method === "POST" ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" },
      body: method === "POST" ? "{}" : undefined,
      credentials: "same-origin",
    });
  } catch {
    return { error: "network" };
  }
  const body = await answer.json().catch(() => ({}));
  if (answer.ok) return { body };
  return { error: KNOWN.includes(body.error) ? body.error : "other" };
}
