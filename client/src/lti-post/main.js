// The script of sala's own LTI step pages (sala/lti/toolpages.py), which the CSP keeps from
// having inline scripts. #lti-post's data-action says what to do:
// - "submit": post the signed deep linking answer to the platform at once (the form's button
//   does the same without scripts);
// - "close": end a dynamic registration by telling the platform's window, as LTI Dynamic
//   Registration 1.0 asks, with the page's Close button as a way to say it again.
import "@fontsource-variable/inter/wght.css";
import "../styles/tokens.css";
import "../styles/base.css";
import "./lti-post.css";
import { applyTheme } from "../core/theme.js";

applyTheme();

function closeRegistration() {
  // The platform opened the registration in a window or an iframe: whichever it was hears it.
  // "*": the platform's origin is not known here, and the message carries nothing secret.
  const platform = window.opener || (window.parent !== window ? window.parent : null);
  if (platform) platform.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
}

const marker = document.getElementById("lti-post");
const action = marker && marker.dataset.action;
if (action === "submit") {
  const form = document.getElementById("lti-post-form");
  if (form) form.submit();
} else if (action === "close") {
  closeRegistration();
  const button = document.getElementById("lti-close");
  if (button) button.addEventListener("click", () => { closeRegistration(); window.close(); });
}
